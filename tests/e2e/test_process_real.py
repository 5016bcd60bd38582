"""Process truth against the real vLLM CPU build: a port held by someone else is never
taken for our readiness (issue #11: `run --force` reported ready in 1 s from the other
server's /health and exited 0 while its own vLLM died 25 s later)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tui.adapters.launcher import free_port

from .conftest import cli

pytestmark = [pytest.mark.e2e, pytest.mark.vllm]


class _AlwaysHealthy(BaseHTTPRequestHandler):
    """Another server on the port, answering /health (and everything else) with 200."""

    def do_GET(self) -> None:  # noqa: N802
        body = b"vllm:num_requests_running 0.0\n" if self.path == "/metrics" else b""
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_run_force_on_a_port_held_by_another_server_fails_with_port_in_use(vllm_env, tiny_model):
    port = free_port("127.0.0.1", 18700)
    other = ThreadingHTTPServer(("127.0.0.1", port), _AlwaysHealthy)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        proc = cli(
            "run", str(tiny_model), "--host", "127.0.0.1", "--port", str(port),
            "--max-model-len", "256", "--gpu-memory-utilization", "0.10",
            "--json", "--force", timeout=300,
        )  # fmt: skip
    finally:
        other.shutdown()
        other.server_close()
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert not any(e.get("type") == "state" and e.get("state") == "ready" for e in events)
    final = events[-1]
    assert final["type"] == "exit" and final["state"] == "failed"
    assert final["root_cause"]["kind"] == "port_in_use", final
    assert final["root_cause"]["flag"] == "--port"
    run_id = events[0]["id"]
    ps = json.loads(cli("ps", "--json", check=True).stdout)
    assert not any(r["id"] == run_id and r["alive"] for r in ps)
