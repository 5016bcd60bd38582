"""Hypothesis strategies shared by the round-trip and vLLM-fidelity tests."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from tui.core.bounds import SERVE_BOUNDS
from tui.core.catalog import CATALOG
from tui.core.config import ServeConfig

SAFE = string.ascii_letters + string.digits + "._/:@+ "
word = st.text(SAFE, min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s[0] not in "-+" and s.strip()
)


def _value_strategy(spec):
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "int":
        lo = int(spec.minimum or 0)
        hi = int(spec.maximum or min(SERVE_BOUNDS.get(spec.dest, (0, 1_000_000))[1], 1_000_000))
        return st.integers(min_value=max(lo, 1 if spec.exclusive_minimum else lo), max_value=hi)
    if spec.kind == "float":
        return st.floats(min_value=0.01, max_value=spec.maximum or 64.0, allow_nan=False).map(
            lambda x: round(x, 3)
        )
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.dest == "host":  # an address bind() can take (others are refused at parse time)
        return st.sampled_from(["0.0.0.0", "127.0.0.1", "::", "::1", "localhost", "gpu-1.lan"])
    if spec.dest == "lora_modules":
        return st.lists(
            st.tuples(word, word).map(lambda p: f"{p[0]}={p[1]}"), min_size=1, max_size=3
        ).map(tuple)
    if spec.kind == "list":
        return st.lists(word, min_size=1, max_size=3).map(tuple)
    return word


@st.composite
def configs(draw, with_secrets=True, version=None, passthrough=True):
    values = {}
    for spec in CATALOG:
        if version is not None and spec.removed_in(version) is not None:
            continue
        if spec.secret and not with_secrets:
            continue
        if spec.env and not spec.secret and not with_secrets:
            continue
        if draw(st.booleans()):
            values[spec.dest] = draw(_value_strategy(spec))
    passthrough = []
    for i in range(draw(st.integers(0, 2)) if passthrough else 0):
        passthrough.append(f"--zz-opt{i}")
        if draw(st.booleans()):
            passthrough.append(draw(word.filter(lambda s: " " not in s)))
    cfg = ServeConfig.build(draw(word), values, passthrough=passthrough)
    if with_secrets and draw(st.booleans()):
        cfg = cfg.with_gpus(draw(st.sampled_from(["0", "0,1", "GPU-abc"])))
    if with_secrets and draw(st.booleans()):
        cfg = cfg.with_env({"NCCL_DEBUG": draw(word)})
    return cfg


def sample_configs(n: int) -> list[Any]:
    """`n` deterministic, distinct-ish configs (no secrets, no passthrough) for tests that run
    every sample through vLLM's own parser in one subprocess."""
    from hypothesis import HealthCheck, given, settings

    samples: list[Any] = []

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(configs(with_secrets=False, version="0.32.0", passthrough=False))
    def collect(cfg: Any) -> None:
        samples.append(cfg)

    collect()
    return list(dict.fromkeys(samples))
