"""Poll a vLLM server we did not start, from its HTTP API alone: /health, /version,
/v1/models and /metrics.

Every request has a total deadline and a body cap (a slow or huge /metrics cannot stall or
flood us); failures come back as values and the next poll backs off. The API key comes from
VLLM_API_KEY or a file, is sent as a Bearer header and never appears in argv or output.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui.core.errors import UserError
from tui.core.metrics import Scrape, parse_scrape, sample
from tui.core.watchstate import Answer, Probe, ServerFacts, WatchSample, backoff, classify, extras
from tui.core.watchstate import facts as read_facts

if TYPE_CHECKING:
    import httpx

MAX_METRICS_BYTES = 4 << 20
"""A large multi-LoRA server's /metrics is a few hundred KiB; 4 MiB is plenty and bounded."""
MAX_JSON_BYTES = 1 << 20


def normalize_url(raw: str) -> str:
    """`host:port`, `http://host:port/`, `.../v1` -> `http://host:port` (the server's base)."""
    text = raw.strip()
    if not text:
        raise UserError("empty server URL")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise UserError(f"{raw!r}: only http:// and https:// servers can be watched")
    try:
        port = parts.port
    except ValueError:
        raise UserError(f"{raw!r}: the port is not a number between 0 and 65535") from None
    if not parts.hostname:
        raise UserError(f"{raw!r}: no host in this URL")
    if parts.username or parts.password:
        raise UserError(f"{raw!r}: put credentials in VLLM_API_KEY, not in the URL")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{path}"


def read_api_key(path: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The key from --api-key-file (first line), else VLLM_API_KEY, else None."""
    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--api-key-file {path}: {exc.strerror or exc}") from None
        key = text.strip().splitlines()[0].strip() if text.strip() else ""
        if not key:
            raise UserError(f"--api-key-file {path} is empty")
        return key
    value = (os.environ if env is None else env).get("VLLM_API_KEY", "").strip()
    return value or None


def _error_text(exc: BaseException) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    api_key: str | None = None,
    limit: int = MAX_JSON_BYTES,
    timeout: float = 3.0,
) -> Answer:
    """GET `url`: at most `limit` bytes of body, all within `timeout` seconds."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("GET", url, headers=headers) as resp:
                status = resp.status_code
                kind = resp.headers.get("content-type", "")
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    return Answer(status, error=_too_large(limit))
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        return Answer(status, error=_too_large(limit))
                    chunks.append(chunk)
    except TimeoutError:
        return Answer(None, error=f"no complete answer within {timeout:g}s")
    except Exception as exc:  # refused, DNS, TLS, protocol errors: the server is not there
        return Answer(None, error=_error_text(exc))
    body = b"".join(chunks).decode("utf-8", errors="replace")
    data = None
    if "json" in kind:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    return Answer(status, body, data)


def _too_large(limit: int) -> str:
    return f"answer larger than {limit // 1024} KiB: not read further"


class RemoteServer:
    """One watched server: polls it, keeps the last scrape for rates, counts failures."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        interval: float = 2.0,
        timeout: float = 3.0,
        max_backoff: float = 30.0,
        metrics_limit: int = MAX_METRICS_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = normalize_url(url)
        self._api_key = api_key
        self.interval = interval
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.metrics_limit = metrics_limit
        self.clock = clock
        self.failures = 0
        self.last: WatchSample | None = None
        self._scrape: Scrape | None = None
        self._facts = ServerFacts()

    def __repr__(self) -> str:  # never shows the key
        return f"RemoteServer({self.url!r})"

    async def probe(self, client: httpx.AsyncClient) -> Probe:
        get = self._get(client)
        health = await get("/health", MAX_JSON_BYTES)
        if health.status is None:
            return Probe(health)
        version, models, metrics = await asyncio.gather(
            get("/version", MAX_JSON_BYTES),
            get("/v1/models", MAX_JSON_BYTES),
            get("/metrics", self.metrics_limit),
        )
        scrape = None
        if metrics.status is not None and 200 <= metrics.status < 300 and not metrics.error:
            try:
                scrape = parse_scrape(metrics.body, time.monotonic())
            except UserError:
                metrics = Answer(metrics.status, error="not Prometheus text")
            if scrape is not None and not (scrape.counters or scrape.gauges):
                scrape = None
        return Probe(health, version, models, metrics, scrape)

    def _get(self, client: httpx.AsyncClient) -> Callable[[str, int], Any]:
        async def get(path: str, limit: int) -> Answer:
            return await fetch(
                client, self.url + path, api_key=self._api_key, limit=limit, timeout=self.timeout
            )

        return get

    async def poll(self, client: httpx.AsyncClient) -> WatchSample:
        probe = await self.probe(client)
        return self.record(probe)

    def record(self, probe: Probe) -> WatchSample:
        """Fold one probe into the server's history and say what it means."""
        known = bool(self._facts.vllm_version or self._facts.model)
        state, message = classify(probe, known_vllm=known)
        self._facts = read_facts(probe, self._facts)
        metrics = None
        more: dict[str, float | None] = {}
        if probe.scrape is not None:
            metrics = sample(probe.scrape, self._scrape)
            more = extras(probe.scrape, self._scrape)
            self._scrape = probe.scrape
        self.failures = 0 if state == "ready" else self.failures + 1
        healthy = None
        if probe.health.status is not None:
            healthy = 200 <= probe.health.status < 300
        result = WatchSample(
            url=self.url,
            time=self.clock(),
            state=state,
            message=message,
            facts=self._facts,
            metrics=metrics,
            retry_in_s=self.next_delay() if state != "ready" else None,
            failures=self.failures,
            healthy=healthy,
            **more,
        )
        self.last = result
        return result

    def failed(self, message: str) -> WatchSample:
        """A sample for a poll that could not be understood at all."""
        self.last = WatchSample(
            self.url,
            self.clock(),
            "not_vllm",
            message,
            facts=self._facts,
            retry_in_s=self.next_delay(),
            failures=self.failures,
        )
        return self.last

    def next_delay(self) -> float:
        return backoff(self.interval, self.failures, self.max_backoff)


def make_client(timeout: float = 3.0) -> httpx.AsyncClient:
    import httpx

    # trust_env=False: a proxy from the environment must not see (or intercept) the key.
    return httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=True)


async def watch(
    servers: Sequence[RemoteServer], stop: asyncio.Event | None = None
) -> AsyncIterator[WatchSample]:
    """Samples from every server, each on its own schedule (interval, or backoff when failing),
    until `stop` is set."""
    stop = stop or asyncio.Event()
    queue: asyncio.Queue[WatchSample] = asyncio.Queue()

    async def one(server: RemoteServer, client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                await queue.put(await server.poll(client))
            except Exception as exc:  # a reply we did not foresee must not end this server's watch
                server.failures += 1
                await queue.put(server.failed(f"unexpected reply: {type(exc).__name__}"))
            wait = max(0.0, server.next_delay() - (time.monotonic() - started))
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                pass

    async with make_client() as client:
        tasks = [asyncio.create_task(one(s, client)) for s in servers]
        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, stopper}, return_when="FIRST_COMPLETED")
                if getter in done:
                    yield getter.result()
                else:
                    getter.cancel()
        finally:
            stop.set()
            for task in (*tasks, stopper):
                task.cancel()
            await asyncio.gather(*tasks, stopper, return_exceptions=True)
