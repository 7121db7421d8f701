"""FastAPI dependencies: the calling key (401) and its scopes (403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
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
    key = bearer.credentials if bearer is not None else header
    if not key:
        raise problems.Problem(401, "missing API key", headers=_CHALLENGE)
    who: Principal | None = request.app.state.services.keys.verify(key)
    if who is None:
        raise problems.Problem(401, "invalid API key", headers=_CHALLENGE)
    return who


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold ``scope`` (``admin`` holds every scope)."""
    assert scope in SCOPES

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.has(scope):
            raise problems.Problem(403, f"this API key lacks the '{scope}' scope")
        return who

    return check
