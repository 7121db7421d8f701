"""ASGI middleware: request ids, access logs, security headers, the gate that authenticates a
request before its body is read (with body deadlines and a JSON nesting limit), and the request
body size limit.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from anyio import to_thread
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.jsondepth import deeper_than
from service.problems import problem_response

if TYPE_CHECKING:
    from service.auth import KeyStore

log = logging.getLogger("provkit.access")


class BodyTooLarge(HTTPException):
    """Raised inside the app when a streamed body passes the limit (answered as 413)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body larger than {max_bytes} bytes")


#: ``/v1/`` routes open without a key: the C2PA resolution API's list of algorithms, which its
#: specification declares without security (a public description of what this service resolves)
PUBLIC_PATHS = frozenset({"/v1/services/supportedAlgorithms"})
#: routes that take the asset itself as the body (C2PA's ``byContent``), not a form upload
RAW_UPLOAD_PATHS = frozenset({"/v1/matches/byContent"})
#: content types FastAPI never parses as JSON: a media file sent as the body
RAW_MEDIA_TYPES = (b"audio/", b"video/", b"application/octet-stream")


def is_upload(ctype: bytes, path: str) -> bool:
    """Whether a body is an upload (the larger size limit): a form upload anywhere, or the
    media itself on a route that takes it raw (:data:`RAW_UPLOAD_PATHS`)."""
    if ctype.startswith(b"multipart/"):
        return True
    return path in RAW_UPLOAD_PATHS and ctype.startswith(RAW_MEDIA_TYPES)


class BodyLimitMiddleware:
    """Reject bodies above the limit: by Content-Length up front, or while streaming.

    Uploads (:func:`is_upload`) get ``max_bytes``; every other body — JSON, or anything a client
    labels otherwise — gets the smaller ``max_json_bytes``, since no other route takes more.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_json_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        upload = is_upload(ctype, scope.get("path", ""))
        limit = self.max_bytes if upload else self.max_json_bytes
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                too_big = False
                resp = problem_response(400, "invalid Content-Length header")
                await resp(scope, receive, send)
                return
            if too_big:
                resp = problem_response(
                    413, f"request body larger than {limit} bytes", instance=scope["path"]
                )
                await resp(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return msg

        await _run_answering(self.app, scope, limited_receive, send, (BodyTooLarge,))


async def _run_answering(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    errors: tuple[type[HTTPException], ...],
) -> None:
    """Run ``app``; when it raises one of ``errors`` (from reading the body) before it has
    started its response, answer with that error's problem+json instead."""
    started = False

    async def tracking_send(msg: Message) -> None:
        nonlocal started
        if msg["type"] == "http.response.start":
            started = True
        await send(msg)

    try:
        await app(scope, receive, tracking_send)
    except errors as exc:
        if not started:
            resp = problem_response(exc.status_code, str(exc.detail), instance=scope.get("path"))
            await resp(scope, receive, send)


class RequestIdMiddleware:
    """Give every request an id (``X-Request-ID``, echoed or generated) and log one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        status: dict[str, Any] = {"code": 500}
        t0 = time.perf_counter()

        async def send_with_id(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status["code"] = msg["status"]
                msg.setdefault("headers", [])
                msg["headers"] = [*msg["headers"], (b"x-request-id", rid.encode("latin-1"))]
            await send(msg)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status["code"],
                    "ms": round((time.perf_counter() - t0) * 1000, 2),
                },
            )


class BodyTimeout(HTTPException):
    """The client did not send its body in time (answered as 408)."""

    def __init__(self, detail: str) -> None:
        super().__init__(408, detail)


class JsonTooDeep(HTTPException):
    """A JSON body nests deeper than the limit (answered as 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(400, f"JSON body nests deeper than {limit} levels")


#: query parameters that look like credentials: keys are taken from headers only, so a key in a
#: URL (which proxies and access logs record) is refused instead of silently ignored
_KEY_PARAMS = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="provkit"'}
#: Python's default recursion limit, which request handling never runs above
RECURSION_LIMIT = 1000


def api_key_from_headers(headers: dict[bytes, bytes]) -> str | None:
    """The API key of ``Authorization: Bearer …`` or ``X-API-Key``, if any."""
    auth = headers.get(b"authorization", b"").decode("latin-1").strip()
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    return key or None


class GateMiddleware:
    """Everything an unauthenticated client may cost, settled before the body is read.

    * Requests under ``/v1/`` must carry a valid API key (401 otherwise) before one byte of their
      body is received: nothing is spooled or parsed for a stranger. The verified principal is
      left in the request state for the route's own scope check.
    * The body must arrive within ``body_timeout_s`` in all, with no pause longer than
      ``idle_timeout_s`` (408 otherwise), so slow-body connections cannot pile up.
    * A body that is not an upload (JSON, or one without a content type, which FastAPI also
      parses as JSON) may nest at most ``max_json_depth`` levels (400), measured on the raw
      bytes before any parser recurses into it.
    * The process's recursion limit is held at Python's default (:data:`RECURSION_LIMIT`): a
      library that raises it on import (py-evm and py_ecc set 100,000) cannot turn a deep
      structure into a C stack overflow.
    """

    def __init__(
        self,
        app: ASGIApp,
        keys: KeyStore,
        *,
        max_json_depth: int = 64,
        body_timeout_s: float = 300.0,
        idle_timeout_s: float = 30.0,
    ) -> None:
        self.app = app
        self.keys = keys
        self.max_json_depth = max_json_depth
        self.body_timeout_s = body_timeout_s
        self.idle_timeout_s = idle_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sys.getrecursionlimit() > RECURSION_LIMIT:
            sys.setrecursionlimit(RECURSION_LIMIT)
        headers = dict(scope.get("headers") or [])
        path: str = scope.get("path", "")
        if path.startswith("/v1/") and path not in PUBLIC_PATHS:
            refusal = await self._authenticate(scope, headers)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        # FastAPI parses a body with no content type as JSON too: every body but an upload or
        # raw media (which FastAPI never parses as JSON) is measured
        is_json = not (ctype.startswith(b"multipart/") or ctype.startswith(RAW_MEDIA_TYPES))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        body_done = scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS")
        parts: list[bytes] = []

        async def guarded_receive() -> Message:
            nonlocal body_done
            if body_done:  # after the body only a disconnect can come: wait for it unbounded
                return await receive()
            left = deadline - loop.time()
            try:
                msg = await asyncio.wait_for(receive(), timeout=min(left, self.idle_timeout_s))
            except TimeoutError:
                raise BodyTimeout("the request body did not arrive in time") from None
            if msg["type"] != "http.request":
                return msg
            if is_json:
                parts.append(msg.get("body", b""))
            if not msg.get("more_body", False):
                body_done = True
                if is_json and deeper_than(b"".join(parts), self.max_json_depth):
                    raise JsonTooDeep(self.max_json_depth)
                parts.clear()
            return msg

        await _run_answering(self.app, scope, guarded_receive, send, (BodyTimeout, JsonTooDeep))

    async def _authenticate(self, scope: Scope, headers: dict[bytes, bytes]) -> Any:
        """None when the caller is authenticated (principal stored), else the 4xx response."""
        query = scope.get("query_string", b"").decode("latin-1")
        if query and any(k.lower() in _KEY_PARAMS for k, _ in parse_qsl(query, True)):
            return problem_response(
                400,
                "API keys are accepted only in the Authorization or X-API-Key header, "
                "never in the URL",
                instance=scope.get("path"),
            )
        key = api_key_from_headers(headers)
        if key is None:
            return problem_response(
                401, "missing API key", instance=scope.get("path"), headers=_CHALLENGE
            )
        who = self.keys.cached(key)
        if who is None:
            who = await to_thread.run_sync(self.keys.verify, key)
        if who is None:
            return problem_response(
                401, "invalid API key", instance=scope.get("path"), headers=_CHALLENGE
            )
        scope.setdefault("state", {})["principal"] = who
        return None


#: sent with every response (the page's Content-Security-Policy is added on its own path)
_PAGE_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cross-origin-opener-policy": b"same-origin",
}


class SecurityHeadersMiddleware:
    """``nosniff``, ``X-Frame-Options: DENY`` and ``no-referrer`` on every response; the web
    page's Content-Security-Policy on the paths given in ``csp``."""

    def __init__(self, app: ASGIApp, csp: dict[str, str] | None = None) -> None:
        self.app = app
        self.csp = {p: v.encode("latin-1") for p, v in (csp or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.csp.get(scope.get("path", ""))

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                present = {k.lower() for k, _ in msg.get("headers", [])}
                extra = [(k, v) for k, v in _PAGE_HEADERS.items() if k not in present]
                if policy is not None:
                    extra.append((b"content-security-policy", policy))
                msg["headers"] = [*msg.get("headers", []), *extra]
            await send(msg)

        await self.app(scope, receive, send_with_headers)
