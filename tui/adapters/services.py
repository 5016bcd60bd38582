"""Everything the app needs from the outside world, as one bundle with real and fake twins.

`Services.real()` talks to NVML, the HF cache/hub, the installed vLLM and real processes.
`Services.demo()` replays a real recorded vLLM log with a fake GPU: the same screens, no GPU,
no vLLM. Tests build the bundle they need (fixed GPUs, replay launcher, frozen clock).

Importing this module loads no adapter (NVML, HF, processes, HTTP, the log watcher): the app's
first frame needs none of them, so each is imported where it is used.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tui.adapters.gpus import GpuSnapshot
    from tui.adapters.watcher import Update
    from tui.core.config import ServeConfig
    from tui.core.model_facts import ModelFacts
    from tui.core.runstate import RunState


class RunLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def model(self) -> str: ...

    def alive(self) -> bool: ...


class WatcherLike(Protocol):
    state: RunState
    stop_requested: bool

    def follow(self, interval: float = 0.1) -> AsyncIterator[Update]:
        """Updates until the server is gone and its log is drained."""
        ...


class Launcher(Protocol):
    def preflight(
        self, cfg: ServeConfig, snapshot: GpuSnapshot | None, chosen: Sequence[str] | None
    ) -> list[Any]: ...

    def launch(self, cfg: ServeConfig, install: Any) -> RunLike: ...

    def stop(self, run: RunLike) -> list[int]: ...

    def watcher(
        self, run: RunLike, api_key: str | None, from_start: bool = True
    ) -> WatcherLike: ...

    def list_runs(self) -> list[RunLike]: ...


class RealLauncher:
    """Real processes (adapters.launcher / runs / watcher)."""

    def preflight(
        self, cfg: ServeConfig, snapshot: GpuSnapshot | None, chosen: Sequence[str] | None
    ) -> list[Any]:
        from tui.adapters.launcher import preflight

        return preflight(cfg, snapshot, chosen)

    def launch(self, cfg: ServeConfig, install: Any) -> RunLike:
        from tui.adapters.introspect import access_log_filter_args
        from tui.adapters.launcher import launch

        return launch(cfg, install, extra_args=access_log_filter_args(install, cfg.passthrough))

    def stop(self, run: RunLike) -> list[int]:
        from tui.adapters.runs import stop

        return stop(run)  # type: ignore[arg-type]

    def watcher(self, run: RunLike, api_key: str | None, from_start: bool = True) -> WatcherLike:
        from tui.adapters.watcher import Watcher

        return Watcher(run, api_key=api_key, from_start=from_start)  # type: ignore[arg-type]

    def list_runs(self) -> list[RunLike]:
        from tui.adapters.runs import list_runs

        return list(list_runs())


# -- replay (demo and fast tests) ---------------------------------------------------------


class ReplayLauncher:
    """Runs that replay a recorded log (tui.adapters.replay, loaded at the first launch)."""

    def __init__(self, lines: list[str] | None = None, per_step: int = 3) -> None:
        self._lines = lines
        self.per_step = per_step
        self.runs: list[RunLike] = []

    def preflight(
        self, cfg: ServeConfig, snapshot: GpuSnapshot | None, chosen: Sequence[str] | None
    ) -> list[Any]:
        return []

    def launch(self, cfg: ServeConfig, install: Any) -> RunLike:
        from tui.adapters.replay import ReplayRun, demo_log_lines, split_at_shutdown

        body, tail = split_at_shutdown(list(self._lines or demo_log_lines()))
        run = ReplayRun(
            id=f"demo-{len(self.runs) + 1}",
            model=cfg.model,
            lines=body,
            tail=tail,
            url=f"http://127.0.0.1:{cfg.get('port')}",
        )
        self.runs.append(run)
        return run

    def stop(self, run: RunLike) -> list[int]:
        from tui.adapters.replay import ReplayRun

        assert isinstance(run, ReplayRun)
        run.lines.extend(run.tail)  # the recorded shutdown sequence plays out
        run.tail = []
        run.stopped = True
        return []

    def watcher(self, run: RunLike, api_key: str | None, from_start: bool = True) -> WatcherLike:
        from tui.adapters.replay import ReplayRun, ReplayWatcher

        assert isinstance(run, ReplayRun)
        return ReplayWatcher(run, self.per_step)

    def list_runs(self) -> list[RunLike]:
        return list(self.runs)


# -- the bundle ---------------------------------------------------------------------------


def no_gpu_snapshot(
    reason: str = "no NVIDIA driver library (libnvidia-ml.so) on this machine",
) -> GpuSnapshot:
    from tui.adapters.gpus import GpuSnapshot, host_info

    return GpuSnapshot(f"unavailable: {reason}", None, None, (), host_info())


@dataclass
class Services:
    probe: Callable[[], GpuSnapshot]
    resolve_model: Callable[[str], ModelFacts]
    find_vllm: Callable[[], Any]
    launcher: Launcher
    clock: Callable[[], float] = time.time
    demo: bool = False
    http: Any = None
    introspect: Callable[[Any], frozenset[str] | None] | None = None
    cached_models: Callable[[], list[str]] = lambda: []

    @classmethod
    def real(cls, vllm_path: str | None = None) -> Services:
        from tui.adapters import http  # a few names; httpx loads on the first request

        return cls(
            probe=_probe,
            resolve_model=_resolve_model,
            find_vllm=lambda: _find_vllm(vllm_path),
            launcher=RealLauncher(),
            http=http,
            introspect=_introspect,
            cached_models=_cached_models,
        )

    @classmethod
    def demo_services(cls) -> Services:
        from tui.core.errors import UserError

        def resolve(ref: str) -> ModelFacts:
            from tui.core.arch_catalog import builtin_facts

            facts = builtin_facts(ref)
            if facts is None:
                raise UserError(f"{ref}: demo mode knows only the built-in catalog")
            return facts

        def probe() -> GpuSnapshot:
            from tui.adapters.replay import demo_snapshot

            return demo_snapshot()

        def find_vllm() -> Any:
            from tui.adapters.replay import DEMO_INSTALL

            return DEMO_INSTALL

        return cls(
            probe=probe,
            resolve_model=resolve,
            find_vllm=find_vllm,
            launcher=ReplayLauncher(),
            demo=True,
            http=_FakeHttp(),
        )

    def with_clock(self, clock: Callable[[], float]) -> Services:
        return replace(self, clock=clock)


def _probe() -> GpuSnapshot:
    from tui.adapters.gpus import probe

    return probe()


def _resolve_model(ref: str) -> ModelFacts:
    from tui.adapters.model_source import resolve_model

    return resolve_model(ref)


def _find_vllm(vllm_path: str | None) -> Any:
    from tui.adapters.settings import load_settings
    from tui.adapters.vllm_env import resolve_vllm

    return resolve_vllm(vllm_path, load_settings().vllm_path)


def _cached_models() -> list[str]:
    from tui.adapters.model_source import list_cached_models

    return list_cached_models()


def _introspect(install: Any) -> frozenset[str] | None:
    from tui.adapters.introspect import dump_options, option_names

    return option_names(dump_options(install))


class _FakeHttp:
    """LoRA endpoints of a pretend server (demo mode)."""

    def __init__(self) -> None:
        self.adapters: dict[str, str] = {}

    async def models(self, base: str, api_key: str | None) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return [{"id": "base"}] + [
            {"id": name, "parent": "base", "root": path} for name, path in self.adapters.items()
        ]

    async def load_lora(self, base: str, name: str, path: str, api_key: str | None) -> Any:
        from tui.adapters.http import Reply

        self.adapters[name] = path
        return Reply(True, 200, f"Success: LoRA adapter '{name}' added successfully.")

    async def unload_lora(self, base: str, name: str, api_key: str | None) -> Any:
        from tui.adapters.http import Reply

        self.adapters.pop(name, None)
        return Reply(True, 200, f"Success: LoRA adapter '{name}' removed successfully.")
