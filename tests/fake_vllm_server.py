"""A scripted stand-in for `python -m vllm.entrypoints.openai.api_server` (tests only).

Speaks just enough of vLLM: a startup log in vLLM's words, a real HTTP server on --host/--port
answering /health and /metrics, a graceful stop on SIGINT/SIGTERM, and the bind error vLLM
prints when the port is taken. FAKE_VLLM_MODE picks a scenario:

    serve         (default) start, serve until stopped
    exit-early    log an error and exit 3 before listening
    crash-after   serve for FAKE_VLLM_LIFETIME seconds (default 1), then exit 1
    hang          never listen (startup takes forever)

FAKE_VLLM_DELAY: seconds of "model loading" before binding (default 0.3).
Run as a plain script: python tests/fake_vllm_server.py --model M --port P [...].
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

METRICS = (
    "# TYPE vllm:num_requests_running gauge\n"
    'vllm:num_requests_running{engine="0",model_name="fake"} 0.0\n'
)


def log(msg: str, level: str = "INFO") -> None:
    stamp = time.strftime("%m-%d %H:%M:%S")
    print(f"(APIServer pid={os.getpid()}) {level} {stamp} [api_server.py:1] {msg}", flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/health":
            body, ctype = b"", "text/plain"
        elif self.path == "/metrics":
            body, ctype = METRICS.encode(), "text/plain; version=0.0.4"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="fake")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    ns, _rest = parser.parse_known_args()
    mode = os.environ.get("FAKE_VLLM_MODE", "serve")
    delay = float(os.environ.get("FAKE_VLLM_DELAY", "0.3"))
    log("vLLM API server version 0.32.0")
    log(f"non-default args: {{'model': '{ns.model}', 'port': {ns.port}}}")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    time.sleep(delay)
    if mode == "exit-early":
        log("ValueError: fake failure before listening", "ERROR")
        return 3
    if mode == "hang":
        while not stop.wait(0.2):
            pass
        return 0
    host = "127.0.0.1" if ns.host in ("0.0.0.0", "") else ns.host
    try:
        server = ThreadingHTTPServer((host, ns.port), Handler)
    except OSError as exc:
        print(
            f"ERROR: [Errno {exc.errno}] error while attempting to bind on address "
            f"('{host}', {ns.port}): address already in use",
            flush=True,
        )
        return 1
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log(f"Starting vLLM API server 0 on http://{host}:{ns.port}")
    print("INFO:     Application startup complete.", flush=True)
    deadline = (
        time.monotonic() + float(os.environ.get("FAKE_VLLM_LIFETIME", "1"))
        if mode == "crash-after"
        else None
    )
    while not stop.wait(0.1):
        if deadline is not None and time.monotonic() > deadline:
            log("RuntimeError: fake engine died", "ERROR")
            os._exit(1)
    print("INFO:     Shutting down", flush=True)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
