"""Real HTTP servers on 127.0.0.1 for the watch tests: a vLLM-shaped one whose counters move,
a non-vLLM one, a slow one and one with a huge /metrics body. Each runs in a thread and can
stop and come back on the same port (a server that goes away and returns)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

METRICS_TEMPLATE = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{{engine="0",model_name="tiny"}} {running}
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{{engine="0",model_name="tiny"}} 0.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{{engine="0",model_name="tiny"}} 0.25
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{{engine="0",model_name="tiny"}} {prompt}
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{{engine="0",model_name="tiny"}} {gen}
# HELP vllm:num_preemptions_total Cumulative number of preemption from the engine.
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{{engine="0",model_name="tiny"}} 3.0
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{{engine="0",le="0.5",model_name="tiny"}} {e2e_fast}
vllm:e2e_request_latency_seconds_bucket{{engine="0",le="1.0",model_name="tiny"}} {e2e_all}
vllm:e2e_request_latency_seconds_bucket{{engine="0",le="+Inf",model_name="tiny"}} {e2e_all}
vllm:e2e_request_latency_seconds_count{{engine="0",model_name="tiny"}} {e2e_all}
vllm:e2e_request_latency_seconds_sum{{engine="0",model_name="tiny"}} {e2e_sum}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Route:
    """What one path answers: status, content type, body (a callable is called per request)."""

    def __init__(
        self,
        status: int = 200,
        body: str | bytes | Callable[[], str | bytes] = b"",
        kind: str = "text/plain",
        delay: float = 0.0,
        need_key: str | None = None,
        chunked: bool = False,
    ) -> None:
        self.status, self.body, self.kind, self.delay = status, body, kind, delay
        self.need_key = need_key
        self.chunked = chunked


class LocalServer:
    """A ThreadingHTTPServer with routes; `stop()` then `start()` reuses the port."""

    def __init__(self, routes: dict[str, Route], port: int | None = None) -> None:
        self.routes = routes
        self.port = port or free_port()
        self.seen_headers: list[dict[str, str]] = []
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.seen_headers.append(dict(self.headers))
                route = outer.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    self.wfile.write(b"not found")
                    return
                auth = self.headers.get("Authorization", "")
                if route.need_key and auth != f"Bearer {route.need_key}":
                    body = b'{"error":"Unauthorized"}'
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if route.delay:
                    time.sleep(route.delay)
                raw = route.body() if callable(route.body) else route.body
                data = raw.encode() if isinstance(raw, str) else raw
                self.send_response(route.status)
                self.send_header("Content-Type", route.kind)
                if not route.chunked:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for i in range(0, len(data), 65536):
                        self.wfile.write(data[i : i + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


class FakeVllm:
    """vLLM's endpoints with counters that grow by `gen_per_scrape` each /metrics read."""

    def __init__(self, api_key: str | None = None, gen_per_scrape: float = 40.0) -> None:
        self.gen = 0.0
        self.step = gen_per_scrape
        routes = {
            "/health": Route(200, b""),
            "/version": Route(200, json.dumps({"version": "0.32.0"}), "application/json"),
            "/v1/models": Route(
                200,
                json.dumps(
                    {
                        "object": "list",
                        "data": [
                            {"id": "tiny", "object": "model", "max_model_len": 512, "parent": None},
                            {"id": "sql-lora", "object": "model", "parent": "tiny"},
                        ],
                    }
                ),
                "application/json",
                need_key=api_key,
            ),
            "/metrics": Route(200, self._metrics, "text/plain; version=0.0.4"),
        }
        self.server = LocalServer(routes)

    def _metrics(self) -> str:
        self.gen += self.step
        n = self.gen / 10
        return METRICS_TEMPLATE.format(
            running=1.0,
            prompt=self.gen * 2,
            gen=self.gen,
            e2e_fast=n,
            e2e_all=n * 2,
            e2e_sum=n * 1.2,
        )
