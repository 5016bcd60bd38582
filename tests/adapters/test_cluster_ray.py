"""A real local Ray cluster (2 nodes x 4 logical GPUs, accelerator type H100), read through
the adapter and `vllm-tui cluster --json`, then planned and checked against.

Ray lives in .venv-vllm, so the cluster is held by a small script in that interpreter
(Ray's own `cluster_utils.Cluster`). Every Ray process it starts carries the test's own
temp dir on its command line; the finalizer shuts the cluster down and then ends, by pid,
any process still naming that dir, so nothing is left behind even when a test fails.
Run under `flock /tmp/heavy.lock`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core.config import ServeConfig
from tui.core.gpu_catalog import find_gpu
from tui.core.multinode import Cluster
from tui.core.multinode_checks import multinode_findings
from tui.core.plan import plan
from tui.core.validate import Context

ROOT = Path(__file__).resolve().parents[2]
VLLM_PY = ROOT / ".venv-vllm" / "bin" / "python"

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(not VLLM_PY.exists(), reason="needs .venv-vllm (Ray lives there)"),
]

HOLDER = r"""
import json, sys
from ray.cluster_utils import Cluster
tmp = sys.argv[1]
node = dict(num_cpus=1, num_gpus=4, resources={"accelerator_type:H100": 1},
            object_store_memory=80 * 1024 * 1024, temp_dir=tmp)
c = Cluster(initialize_head=True, head_node_args=dict(node, include_dashboard=False))
c.add_node(**node)
c.wait_for_nodes()
print(json.dumps({"address": c.address}), flush=True)
sys.stdin.readline()  # hold until the test says stop
c.shutdown()
print("stopped", flush=True)
"""


def _pids_naming(text: str) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    me = os.getpid()
    return [
        int(line.split(None, 1)[0])
        for line in out.splitlines()
        if text in line and int(line.split(None, 1)[0]) != me
    ]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    tmp = tempfile.mkdtemp(prefix="rh5-", dir="/tmp")
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    holder = subprocess.Popen(
        [str(VLLM_PY), "-c", HOLDER, tmp],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        if not line:
            pytest.fail("the Ray cluster did not start")
        yield json.loads(line)["address"]
    finally:
        try:
            assert holder.stdin is not None
            holder.stdin.write("stop\n")
            holder.stdin.flush()
            holder.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            holder.kill()
            holder.wait()
        for _ in range(20):  # raylets and GCS end a moment after shutdown
            left = _pids_naming(tmp)
            if not left:
                break
            time.sleep(0.5)
        for pid in _pids_naming(tmp):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not _pids_naming(tmp), "Ray processes left behind"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env or dict(os.environ),
    )


def test_unreachable_address_exits_2() -> None:
    out = _cli("cluster", "--address", "127.0.0.1:1", "--vllm", str(VLLM_PY), "--json")
    assert out.returncode == 2
    assert "cannot reach a Ray head at 127.0.0.1:1" in out.stderr
    assert "Traceback" not in out.stderr


def test_no_cluster_is_exit_0_with_a_reason(tmp_path: Path) -> None:
    """Runs before the module's cluster exists (Ray would find that one on its own)."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_TMPDIR"] = str(tmp_path)  # no local head recorded there
    out = _cli("cluster", "--vllm", str(VLLM_PY), "--json", env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["backend"] is None and data["reason"] and data["nodes"] == []


def test_cluster_json_lists_both_nodes(ray_cluster: str) -> None:
    out = _cli("cluster", "--address", ray_cluster, "--vllm", str(VLLM_PY), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["backend"] == "ray"
    assert data["gpus_total"] == 8
    assert len(data["nodes"]) == 2
    h100 = find_gpu("H100")
    assert h100 is not None
    for node in data["nodes"]:
        assert node["alive"] is True
        assert node["gpus"] == 4
        assert node["gpu_type"] == "H100"
        assert node["gpu_memory_bytes"] == h100.total_bytes
        assert node["cpus"] == 1
        assert node["memory"] > 0
        assert node["ip"]
        assert len(node["node_id"]) == 56
        assert node["vllm_version"] == "0.32.0"
    assert [n["is_head"] for n in data["nodes"]] == [True, False]


def test_ray_address_env_is_honoured(ray_cluster: str) -> None:
    env = dict(os.environ, RAY_ADDRESS=ray_cluster)
    out = _cli("cluster", "--vllm", str(VLLM_PY), "--no-versions", env=env)
    assert out.returncode == 0, out.stderr
    assert "2 nodes x 4 H100 GPUs (8 in all)" in out.stdout


def test_plan_and_checks_against_the_real_cluster(ray_cluster: str) -> None:
    from tui.adapters.cluster import probe_cluster

    cluster = probe_cluster(str(VLLM_PY), ray_cluster, versions=False)
    assert isinstance(cluster, Cluster) and cluster.gpus_per_node == 4
    gpu = cluster.nodes[0].gpu_spec()
    assert gpu is not None and gpu.name.startswith("H100")
    fits = ServeConfig.build("org/model", {"tensor_parallel_size": 4, "pipeline_parallel_size": 2})
    ctx = Context(extra={"cluster": cluster, "nodes": 2, "gpus_per_node": 4})
    codes = {f.code for f in multinode_findings(fits, ctx)}
    assert "cluster-gpus" not in codes and "tp-across-nodes" not in codes
    too_big = fits.update({"pipeline_parallel_size": 4})
    errors = [f for f in multinode_findings(too_big, ctx) if f.code == "cluster-gpus"]
    assert errors and "8 H100 GPUs missing" in errors[0].message.en
    wide = ServeConfig.build("org/model", {"tensor_parallel_size": 8})
    warn = [f for f in multinode_findings(wide, ctx) if f.code == "tp-across-nodes"]
    assert warn and warn[0].fix is not None
    assert dict(warn[0].fix.set) == {"tensor_parallel_size": 4, "pipeline_parallel_size": 2}
    result = plan(None, fits, (gpu,) * 8, planning=True, nodes=2, cluster=cluster)
    assert result.nodes is not None
    assert [s.nodes for s in result.nodes.stages] == [(0,), (1,)]


def test_estimate_takes_gpus_per_node_and_type_from_the_cluster(
    ray_cluster: str, tmp_path: Path
) -> None:
    env = dict(
        os.environ,
        RAY_ADDRESS=ray_cluster,
        VLLM_TUI_VLLM_PYTHON=str(VLLM_PY),
        VLLM_TUI_HOME=str(tmp_path),
        HF_HUB_OFFLINE="1",
    )
    out = _cli(
        "estimate", "meta-llama/Llama-3.1-70B-Instruct", "--nodes", "2",
        "--tensor-parallel-size", "4", "--pipeline-parallel-size", "2", "--json", env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    nodes = data["nodes"]
    assert nodes["gpus_per_node_source"] == "Ray cluster"
    assert (nodes["nodes"], nodes["gpus_per_node"], nodes["gpus_total"]) == (2, 4, 8)
    assert data["gpu"].startswith("H100")
    assert [s["nodes"] for s in nodes["per_stage"]] == [[0], [1]]


async def test_the_gpu_panel_shows_the_real_cluster(ray_cluster: str) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from tui.adapters.cluster import probe_cluster
    from tui.widgets.gpu_panel import GpuPanel

    cluster = probe_cluster(str(VLLM_PY), ray_cluster, versions=False)

    class PanelApp(App[None]):
        def compose(self) -> ComposeResult:
            yield GpuPanel()

    app = PanelApp()
    async with app.run_test(size=(100, 20)) as pilot:
        panel = app.query_one(GpuPanel)
        panel.cluster = cluster
        await pilot.pause()
        line = app.query_one("#cluster", Static)
        assert str(line.render()) == "Ray cluster: 2 nodes x 4 H100 GPUs (8 in all)"
        panel.lang = "ja"
        await pilot.pause()
        line = app.query_one("#cluster", Static)
        assert str(line.render()) == "Ray クラスタ: 2 ノード × H100 GPU 4 枚（計 8 枚）"


async def test_the_app_finds_the_real_cluster_and_shows_it(
    ray_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#13: with RAY_ADDRESS set, the configure screen asks vLLM's interpreter for the cluster
    and its GPU panel shows nodes x GPUs (the UI process never imports ray)."""
    import dataclasses

    from textual.widgets import Static

    from tests.app.app_helpers import services, settle
    from tui.adapters.replay import DEMO_INSTALL
    from tui.app import make_app

    monkeypatch.setenv("RAY_ADDRESS", ray_cluster)
    svc = services()
    svc.demo = False
    install = dataclasses.replace(DEMO_INSTALL, python=str(VLLM_PY), device="cpu")
    svc.find_vllm = lambda: install
    svc.introspect = None
    app = make_app(services=svc, model="Qwen/Qwen3-8B")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        for _ in range(300):  # the probe is a subprocess (Ray client start-up)
            await pilot.pause(0.2)
            if app.screen.query("#cluster"):
                break
        line = app.screen.query_one("#cluster", Static)
        assert str(line.render()) == "Ray cluster: 2 nodes x 4 H100 GPUs (8 in all)"
    assert "ray" not in sys.modules
