"""Ray-specific failures in a vLLM log, each with what to do about it.

Registered in tui/core/diagnose.py (appended to its PATTERNS, same shape). The messages are
vLLM's own (v1/executor/ray_utils.py, ray_executor.py) and Ray's (ray/_private/utils.py
check_version_info, ray/exceptions.py), and NCCL's/Gloo's for a wrong network interface.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tui.core.diagnose import Diagnosis, fix_from_dict

_IFACE_HINT = (
    "Set NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME to the interface that reaches the other "
    "nodes (see `ip addr`; e.g. eth0, ib0) and VLLM_HOST_IP to each node's address on it, on "
    "every node before `ray start`, then start the cluster again."
)


def _cpu_build(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "ray_cpu_build",
        m.group(0),
        "--distributed-executor-backend",
        "unset --distributed-executor-backend (use mp on one node)",
        f"This vLLM build runs on {m.group(1)}, which has no Ray device: Ray's executor needs a "
        "CUDA (or ROCm/XPU/TPU) build of vLLM on every node.",
        fix_from_dict({"distributed_executor_backend": None}),
        rank=95,
    )


def _placement(m: re.Match[str]) -> Diagnosis:
    need = m.group(1)
    return Diagnosis(
        "ray_not_enough_gpus",
        m.group(0),
        "--tensor-parallel-size",
        "add nodes/GPUs to the Ray cluster, or lower TP x PP to what `ray status` shows",
        f"Ray could not reserve {need + ' ' if need else ''}GPUs for the workers (the placement "
        "group never became ready): the cluster has fewer free GPUs than TP x PP x DP, a worker "
        "node has not joined, or a node's IP differs from its VLLM_HOST_IP. Check `ray status`.",
        rank=85,
    )


def _exceeds(m: re.Match[str]) -> Diagnosis:
    need, have = int(m.group(1)), int(m.group(2))
    return Diagnosis(
        "ray_not_enough_gpus",
        m.group(0),
        "--tensor-parallel-size",
        f"use {have} GPUs in all (TP x PP x DP), or add {need - have} GPUs to the cluster",
        f"The run needs {need} GPUs but the placement group has {have}.",
        rank=85,
    )


def _waiting(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "ray_waiting_for_gpus",
        m.group(0),
        None,
        "check `ray status`: are all nodes joined, with their GPUs?",
        "vLLM is waiting for Ray to reserve the GPUs; it gives up after a while. " + _IFACE_HINT,
        fatal=False,
        rank=40,
    )


def _node_died(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "ray_node_died",
        m.group(0),
        None,
        "look at the dead node's own log (`ray logs` / /tmp/ray/session_latest/logs on it)",
        "A Ray node or a worker on it died (out of host memory, killed, network lost); vLLM "
        "cannot continue without its ranks. Restart `ray start` on that node, then vLLM.",
        rank=70,
    )


def _version(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "ray_version_mismatch",
        m.group(0),
        None,
        "install the same Ray, Python and vLLM versions on every node",
        "A node runs another Ray or Python version than the head; Ray refuses to mix them, "
        "and vLLM's workers must import the same vLLM as the driver.",
        rank=90,
    )


def _interface(m: re.Match[str]) -> Diagnosis:
    return Diagnosis(
        "network_interface",
        m.group(0),
        None,
        "export NCCL_SOCKET_IFNAME=<iface> GLOO_SOCKET_IFNAME=<iface> on every node",
        "NCCL or Gloo could not connect the ranks over the network interface it picked. "
        + _IFACE_HINT,
        rank=80,
    )


RAY_PATTERNS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], Diagnosis]], ...] = tuple(
    (needle, re.compile(p), make)
    for needle, p, make in (
        ("does not support ray", r"current platform (\w+) does not support ray\.?", _cpu_build),
        (
            "Cannot provide a placement group",
            r"Cannot provide a placement group (?:requiring (\d+) GPUs|of )?[^\n]*",
            _placement,
        ),
        (
            "exceeds the total number of available",
            r"The number of required \w+s exceeds the total number of available \w+s in the "
            r"placement group\. Required number of devices: (\d+)\. Total number of devices: (\d+)",
            _exceeds,
        ),
        (
            "Waiting for creating a placement group",
            r"Waiting for creating a placement group of specs for \d+ seconds[^\n]*",
            _waiting,
        ),
        ("because its node has died", r"[^\n]*because its node has died[^\n]*", _node_died),
        ("has been marked dead", r"[^\n]*has been marked dead[^\n]*", _node_died),
        ("NodeDiedError", r"NodeDiedError[^\n]*", _node_died),
        ("Version mismatch", r"Version mismatch: [^\n]*", _version),
        ("no socket interface found", r"[^\n]*no socket interface found[^\n]*", _interface),
        ("Bootstrap : no socket", r"[^\n]*Bootstrap : no socket[^\n]*", _interface),
        ("connectFullMesh failed", r"[^\n]*connectFullMesh failed[^\n]*", _interface),
        (
            "gloo/transport/tcp",
            r"[^\n]*gloo/transport/tcp[^\n]*(?:Connection refused|timed out|"
            r"Timed out|No route to host)[^\n]*",
            _interface,
        ),
    )  # fmt: skip
)
