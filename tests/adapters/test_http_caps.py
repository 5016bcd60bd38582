"""The HTTP adapter reads at most a capped body (#11: a huge /metrics must not be held whole),
against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio

from tests.adapters.local_http import LocalServer, Route
from tui.adapters import http


def test_metrics_body_past_the_cap_is_refused_without_reading_it_all():
    huge = b"vllm:x 1\n" * (http.MAX_METRICS // 9 + 1000)
    server = LocalServer({"/metrics": Route(body=huge, chunked=True)}).start()
    try:
        assert asyncio.run(http.metrics(server.url)) is None
        reply = asyncio.run(http.request("GET", server.url + "/metrics", max_bytes=1000))
        assert not reply.ok and "larger than 1,000 bytes" in reply.text
    finally:
        server.stop()


def test_small_bodies_and_json_still_read():
    server = LocalServer(
        {
            "/metrics": Route(body=b"vllm:num_requests_running 1\n"),
            "/v1/models": Route(body=b'{"data": [{"id": "tiny"}]}', kind="application/json"),
        }
    ).start()
    try:
        assert asyncio.run(http.metrics(server.url)) == "vllm:num_requests_running 1\n"
        assert asyncio.run(http.models(server.url, None)) == [{"id": "tiny"}]
    finally:
        server.stop()
