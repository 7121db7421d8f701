"""Prometheus metrics: request latency per route and method, responses by status, verdicts.

Each app owns its registry (several apps in one process, as in tests, do not collide). With
several uvicorn workers each worker reports its own series; scrape them through the process
manager or run one worker per scrape target.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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

        async def tracking_send(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status["code"] = msg["status"]
            await send(msg)

        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.latency.labels(template, scope.get("method", "")).observe(
                time.perf_counter() - t0
            )
            self.metrics.responses.labels(template, str(status["code"])).inc()
