"""The remote poller against real HTTP servers on 127.0.0.1: a vLLM-shaped one, servers that
are not vLLM, protected endpoints, slow and huge /metrics, a server that goes and comes back."""

from __future__ import annotations

import asyncio
import time

import pytest

from tui.adapters.remote import (
    RemoteServer,
    make_client,
    normalize_url,
    read_api_key,
    watch,
)
from tui.adapters.remote_hub import RemoteRun, RemoteWatcher, WatchHub
from tui.core.errors import UserError
from tui.core.metrics import MetricsSample
from tui.core.watchstate import (
    Answer,
    Probe,
    ServerFacts,
    WatchSample,
    as_json,
    backoff,
    facts,
    transition,
)

from .local_http import FakeVllm, LocalServer, Route, free_port

KEY = "sk-watch-SECRET-51c2"


@pytest.fixture
def vllm():
    fake = FakeVllm()
    fake.server.start()
    yield fake
    fake.server.stop()


async def poll_n(server: RemoteServer, n: int):
    async with make_client() as client:
        return [await server.poll(client) for _ in range(n)]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("localhost:8000", "http://localhost:8000"),
        ("http://10.0.0.5:8000/", "http://10.0.0.5:8000"),
        ("https://llm.example.com/v1", "https://llm.example.com"),
        ("http://gw.example.com/team-a/v1/", "http://gw.example.com/team-a"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_urls_are_normalised_to_the_server_base(raw, want):
    assert normalize_url(raw) == want


@pytest.mark.parametrize(
    "raw", ["", "ftp://host", "http://", "http://host:99999", "http://user:pw@host:8000"]
)
def test_bad_urls_are_user_errors(raw):
    with pytest.raises(UserError):
        normalize_url(raw)


def test_api_key_from_env_or_file(tmp_path):
    assert read_api_key(None, {"VLLM_API_KEY": KEY}) == KEY
    assert read_api_key(None, {}) is None
    f = tmp_path / "key"
    f.write_text(KEY + "\n")
    assert read_api_key(str(f), {"VLLM_API_KEY": "other"}) == KEY
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(UserError, match="empty"):
        read_api_key(str(tmp_path / "empty"))
    with pytest.raises(UserError, match="api-key-file"):
        read_api_key(str(tmp_path / "missing"))


async def test_a_vllm_server_gives_model_version_and_rates(vllm):
    server = RemoteServer(vllm.server.url)
    first, second = await poll_n(server, 2)
    assert first.state == second.state == "ready"
    assert first.facts.model == "tiny"  # the base model, not the LoRA adapter beside it
    assert first.facts.served_models == ("tiny", "sql-lora")
    assert first.facts.max_model_len == 512
    assert first.facts.vllm_version == "0.32.0"
    assert first.metrics is not None and first.metrics.gen_tps is None  # no rate from one scrape
    assert second.metrics is not None and second.metrics.gen_tps > 0
    assert second.metrics.prompt_tps == pytest.approx(2 * second.metrics.gen_tps)
    assert second.metrics.kv_cache_usage_pct == pytest.approx(25.0)
    assert second.metrics.running == 1.0
    assert second.preemptions_total == 3.0
    assert second.e2e_p50_s is not None and 0 < second.e2e_p50_s <= 0.5
    line = as_json(second)
    assert line["type"] == "metrics" and line["url"] == vllm.server.url
    assert line["gen_tps"] > 0 and line["model"] == "tiny" and line["healthy"] is True


async def test_protected_endpoints_need_the_key_and_never_show_it():
    fake = FakeVllm(api_key=KEY)
    fake.server.start()
    try:
        (without,) = await poll_n(RemoteServer(fake.server.url), 1)
        assert without.state == "unauthorized"
        assert "VLLM_API_KEY" in without.message
        with_key = RemoteServer(fake.server.url, KEY)
        (sample,) = await poll_n(with_key, 1)
        assert sample.state == "ready" and sample.facts.model == "tiny"
        assert fake.server.seen_headers[-1].get("Authorization") == f"Bearer {KEY}"
        assert KEY not in repr(with_key)
        assert KEY not in repr(sample) and KEY not in str(as_json(sample))
    finally:
        fake.server.stop()


async def test_a_server_that_is_not_vllm_says_so():
    html = Route(200, "<html>hello</html>", "text/html")
    other = LocalServer({"/health": html, "/version": html, "/v1/models": html, "/metrics": html})
    other.start()
    try:
        (sample,) = await poll_n(RemoteServer(other.url), 1)
        assert sample.state == "not_vllm"
        assert sample.retry_in_s is not None and sample.retry_in_s > 0
    finally:
        other.stop()


async def test_a_vllm_that_answers_only_health_while_stopping_is_unhealthy_not_foreign(vllm):
    """A vLLM shutting down still answers /health for a moment while /version, /v1/models and
    /metrics are gone: the server we saw a poll ago is stopping, not "not a vLLM server"."""
    server = RemoteServer(vllm.server.url)
    async with make_client() as client:
        first = await server.poll(client)
        assert first.state == "ready"
        for path in ("/version", "/v1/models", "/metrics"):
            vllm.server.routes[path] = Route(404, "")
        stopping = await server.poll(client)
        vllm.server.stop()
        gone = await server.poll(client)
        vllm.server.start()
    assert stopping.state == "unhealthy" and "stopping" in stopping.message
    assert gone.state == "unreachable" and "gone" in (transition(stopping, gone) or "")
    # The same answers from a URL never seen as vLLM are still "not a vLLM server".
    (fresh,) = await poll_n(RemoteServer(vllm.server.url), 1)
    assert fresh.state == "not_vllm"


async def test_no_health_endpoint_is_not_found():
    plain = LocalServer({"/": Route(200, "index")})
    plain.start()
    try:
        (sample,) = await poll_n(RemoteServer(plain.url + "/v1"), 1)
        assert sample.state == "not_found"
        assert "base URL" in sample.message
    finally:
        plain.stop()


async def test_engine_dead_is_unhealthy(vllm):
    vllm.server.routes["/health"] = Route(503, "")
    (sample,) = await poll_n(RemoteServer(vllm.server.url), 1)
    assert sample.state == "unhealthy" and sample.healthy is False


async def test_unreachable_backs_off_and_caps():
    server = RemoteServer(f"http://127.0.0.1:{free_port()}", interval=1.0, max_backoff=8.0)
    samples = await poll_n(server, 5)
    assert all(s.state == "unreachable" for s in samples)
    assert [s.retry_in_s for s in samples] == [2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff(1.0, 0) == 1.0


async def test_a_server_that_goes_away_and_comes_back(vllm):
    server = RemoteServer(vllm.server.url, interval=0.5)
    async with make_client() as client:
        up = await server.poll(client)
        vllm.server.stop()
        gone = await server.poll(client)
        vllm.server.start()
        back = await server.poll(client)
        again = await server.poll(client)
    assert (up.state, gone.state, back.state) == ("ready", "unreachable", "ready")
    assert "gone" in (transition(up, gone) or "")
    assert "back" in (transition(gone, back) or "")
    assert back.failures == 0 and back.retry_in_s is None
    assert again.metrics is not None and again.metrics.gen_tps and again.metrics.gen_tps > 0


async def test_slow_metrics_time_out_without_stalling(vllm):
    vllm.server.routes["/metrics"] = Route(200, "vllm:x 1\n", delay=5.0)
    server = RemoteServer(vllm.server.url, timeout=0.8)
    started = time.monotonic()
    (sample,) = await poll_n(server, 1)
    assert time.monotonic() - started < 3.0
    assert sample.state == "bad_metrics" and "within 0.8s" in sample.message
    assert sample.facts.model == "tiny"  # the rest of the API still answered


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_huge_metrics_bodies_are_not_read_past_the_cap(vllm, chunked):
    huge = b"# filler\n" * (2 << 20)  # 18 MiB
    vllm.server.routes["/metrics"] = Route(200, huge, chunked=chunked)
    server = RemoteServer(vllm.server.url, metrics_limit=1 << 20)
    (sample,) = await poll_n(server, 1)
    assert sample.state == "bad_metrics" and "larger than 1024 KiB" in sample.message


async def test_watch_streams_every_server_until_stopped(vllm):
    missing = f"http://127.0.0.1:{free_port()}"
    servers = [RemoteServer(vllm.server.url, interval=0.2), RemoteServer(missing, interval=0.2)]
    stop = asyncio.Event()
    seen: dict[str, list[str]] = {}
    async for sample in watch(servers, stop):
        seen.setdefault(sample.url, []).append(sample.state)
        if len(seen.get(vllm.server.url, [])) >= 3 and missing in seen:
            stop.set()
    assert seen[vllm.server.url][:3] == ["ready"] * 3
    assert set(seen[missing]) == {"unreachable"}


def fixed(url: str, state: str, gen: float | None, t: float) -> WatchSample:
    return WatchSample(
        url=url,
        time=t,
        state=state,
        message="" if state == "ready" else "connection refused or host unreachable",
        facts=ServerFacts(model="tiny", vllm_version="0.32.0"),
        metrics=MetricsSample(gen_tps=gen) if state == "ready" else None,
        retry_in_s=None if state == "ready" else 2.0,
    )


async def test_the_monitor_view_of_a_watched_server_replays_then_follows():
    url = "http://10.0.0.5:8000"
    hub = WatchHub([RemoteServer(url)])
    for i in range(40):
        hub.add(fixed(url, "ready", float(i), i))
    watcher = RemoteWatcher(hub, url)
    first = await watcher.step()
    assert first.metrics is not None and first.metrics.gen_tps == 10.0  # the last 30 replayed
    assert any("not available from the API" in line for line in first.lines)
    assert first.state.state == "ready" and first.state.vllm_version == "0.32.0"
    for _ in range(29):
        await watcher.step()
    assert (await watcher.step()).metrics is None  # caught up
    hub.add(fixed(url, "unreachable", None, 41))
    gone = await watcher.step()
    assert gone.state.state == "unreachable" and any("gone" in line for line in gone.lines)
    run = RemoteRun(hub, url)
    assert run.model == "tiny" and not run.alive() and run.remote
    watcher.stop_requested = True
    updates = [u async for u in watcher.follow(0)]
    assert [u.alive for u in updates] == [False]


@pytest.mark.parametrize(
    "models",
    [
        None,
        {"data": "x"},
        {"object": "list", "data": [{"id": "m", "max_model_len": float("inf")}]},
        {"object": "list", "data": [{"id": "m", "max_model_len": "4096"}, 7, {"no": "id"}]},
    ],
)
def test_odd_models_answers_never_break_the_facts(models):
    probe = Probe(Answer(200), Answer(200, data={"version": 3}), Answer(200, data=models))
    got = facts(probe, ServerFacts(model="before"))
    assert got.max_model_len is None
    assert got.vllm_version is None
    assert got.model in ("before", "m")
