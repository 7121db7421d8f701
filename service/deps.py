"""FastAPI dependencies: the calling key (401) and its scopes (403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service import problems
from service.auth import SCOPES, Principal

_bearer = HTTPBearer(auto_error=False, description="API key as `Authorization: Bearer pk_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="provkit"'}


async def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    """The verified caller; 401 problem+json when the key is missing or wrong.

    Runs on the event loop: keys are cached per process, so the store is rarely asked.
    """
    gated: Principal | None = request.scope.get("state", {}).get("principal")
    if gated is not None:  # the gate verified the key before the body was read
        return gated
    key = bearer.credentials if bearer is not None else header
    if not key:
        raise problems.Problem(401, "missing API key", headers=_CHALLENGE)
    keys = request.app.state.services.keys
    who: Principal | None = keys.cached(key) or await run_in_threadpool(keys.verify, key)
    if who is None:
        raise problems.Problem(401, "invalid API key", headers=_CHALLENGE)
    return who


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold ``scope`` (``admin`` holds every scope).

    ``admin`` is checked against the store on every call, not the per-process key cache: a
    revoked admin key can do nothing more anywhere, at once.
    """
    assert scope in SCOPES

    async def check(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.has(scope):
            raise problems.Problem(403, f"this API key lacks the '{scope}' scope", scope=scope)
        if scope == "admin":
            keys = request.app.state.services.keys
            if not await run_in_threadpool(keys.is_active, who.key_id):
                raise problems.Problem(401, "the API key was revoked", headers=_CHALLENGE)
        return who

    return check
