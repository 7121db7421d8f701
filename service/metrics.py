"""Prometheus metrics: request latency per route and method, responses by status, verdicts, the
fingerprint index's sync time; and per-request timings in a ``Server-Timing`` header.

Each app owns its registry (several apps in one process, as in tests, do not collide). With
several uvicorn workers each worker reports its own series; scrape them through the process
manager or run one worker per scrape target.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: the current request's named timings in seconds (set by :class:`MetricsMiddleware`)
_timings: ContextVar[dict[str, float] | None] = ContextVar("provkit_timings", default=None)
_worker: tuple[int, str] = (0, "")


def worker_id() -> str:
    """An opaque id of this worker process (8 hex digits, new in every process): the
    ``X-Provkit-Worker`` header, so that a client can tell which worker answered."""
    global _worker
    if _worker[0] != os.getpid():
        _worker = (os.getpid(), secrets.token_hex(4))
    return _worker[1]


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Add the block's wall time to the current request's ``name`` timing (a no-op outside a
    request); the response reports it as ``Server-Timing: name;dur=ms``."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        found = _timings.get()
        if found is not None:
            found[name] = found.get(name, 0.0) + time.perf_counter() - t0


class Metrics:
    """The service's metric families, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "provkit_request_seconds",
            "Request latency by route template and method.",
            ["route", "method"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.responses = Counter(
            "provkit_responses_total",
            "Responses by route template and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.verdicts = Counter(
            "provkit_verdicts_total",
            "Verification verdicts.",
            ["verdict"],
            registry=self.registry,
        )
        self.screen_actions = Counter(
            "provkit_screen_actions_total",
            "Screening decisions by action.",
            ["action"],
            registry=self.registry,
        )
        self.index_sync = Histogram(
            "provkit_index_sync_seconds",
            "Time a search spent bringing the fingerprint index up to date with the store "
            "(staleness check and applying other workers' changes), by outcome.",
            ["outcome"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30),
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Time every HTTP request under its route template (not its raw path: ids stay out)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}
        timings: dict[str, float] = {}
        token = _timings.set(timings)
        t0 = time.perf_counter()

        async def tracking_send(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status["code"] = msg["status"]
                spent = [f"{k};dur={v * 1000:.1f}" for k, v in timings.items()]
                spent.append(f"app;dur={(time.perf_counter() - t0) * 1000:.1f}")
                msg["headers"] = [
                    *msg.get("headers", []),
                    (b"server-timing", ", ".join(spent).encode()),
                    (b"x-provkit-worker", worker_id().encode()),
                ]
            await send(msg)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            _timings.reset(token)
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.latency.labels(template, scope.get("method", "")).observe(
                time.perf_counter() - t0
            )
            self.metrics.responses.labels(template, str(status["code"])).inc()
