"""The provkit FastAPI application (``create_app``)."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict
from sqlalchemy import text

from service import problems
from service.api import router as api_router
from service.auth import SCOPES, Principal
from service.context import Services
from service.deps import principal, require
from service.logging import configure as configure_logging
from service.metrics import CONTENT_TYPE, MetricsMiddleware
from service.middleware import (
    BodyLimitMiddleware,
    GateMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from service.recovery import lifespan as recovery_lifespan
from service.resolution import router as resolution_router
from service.responses import HealthOut, ReadyOut, WhoAmIOut, examples, responses
from service.schema import current_revisions, head_revisions
from service.settings import Settings
from service.signals import reason_table


class KeyCreate(BaseModel):
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES))
    name: str = Field("", max_length=128)


_KEY_EXAMPLE: JsonDict = {
    "key_id": "d129bfea594a",
    "name": "ci",
    "scopes": ["verify"],
    "created_at": "2026-12-03T15:09:06Z",
    "revoked": False,
}


class KeyOut(BaseModel):
    """An API key as listed (never its secret)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_KEY_EXAMPLE]})

    key_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked: bool


class KeyCreated(KeyOut):
    """A new API key, its secret included (shown in this answer only)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_KEY_EXAMPLE,
                    "key": "pk_d129bfea594a_ZuFaEMP4dRe7TsBVdnO_Trf2ucTK6pFXsLRYbihNyc8",
                }
            ]
        }
    )

    key: str = Field(description="The secret key. Shown once: store it now.")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Before the first request: crash recovery (:mod:`service.recovery`), and the screener
    loaded (its registry and, when installed, its sentence encoder: about 0.7 s that no
    request should pay). The fingerprint index opens in the background meanwhile
    (``index_warm_start``); a search that comes first waits for it."""
    svc: Services = app.state.services
    async with recovery_lifespan(app):
        if svc.settings.index_warm_start:
            threading.Thread(target=svc.warm_index, name="provkit-index-warm", daemon=True).start()
        await run_in_threadpool(lambda: svc.screener)
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from environment / TOML)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="provkit",
        version="0.1.0",
        description="Provenance verification API: watermark, fingerprints, screening, certificates.",
        lifespan=lifespan,
    )
    svc = Services(settings)
    engine = svc.engine
    app.state.services = svc
    problems.install(app, examples())
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        max_json_bytes=settings.max_json_bytes,
    )
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.add_middleware(
        GateMiddleware,
        keys=svc.keys,
        max_json_depth=settings.max_json_depth,
        body_timeout_s=settings.body_timeout_s,
        idle_timeout_s=settings.body_idle_timeout_s,
    )
    app.add_middleware(SecurityHeadersMiddleware, csp={"/": page_policy(_INDEX)})
    app.add_middleware(RequestIdMiddleware)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def metrics() -> Response:
        """Prometheus exposition of the service's metrics."""
        return Response(svc.metrics.render(), media_type=CONTENT_TYPE)

    app.include_router(api_router)
    app.include_router(resolution_router)

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        """The verification web page."""
        return HTMLResponse(_INDEX.read_text(encoding="utf-8"))

    @app.get("/reasons.json", tags=["ops"])
    def reasons() -> dict[str, dict[str, str]]:
        """Every verdict reason code → its text in English and Chinese (Python format fields,
        e.g. ``{p:.1e}``), for clients that show ``reasons`` in a user's language."""
        return reason_table()

    @app.get("/healthz", tags=["ops"], response_model=None, responses=responses(HealthOut))
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        response_model=None,
        responses=responses(
            ReadyOut, (503, "store schema is not up to date; run `provkit db upgrade`")
        ),
    )
    def readyz() -> dict[str, Any]:
        """Readiness: the store answers and carries every migration."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            current = current_revisions(engine)
        except Exception as exc:  # the store is down or unreachable
            raise problems.Problem(503, f"store unavailable: {type(exc).__name__}") from None
        heads = head_revisions()
        if current != heads:
            raise problems.Problem(503, "store schema is not up to date; run `provkit db upgrade`")
        return {"status": "ready", "schema": sorted(current)}

    @app.get("/v1/whoami", tags=["keys"], response_model=None, responses=responses(WhoAmIOut))
    def whoami(who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
        """The calling key's id, name and scopes."""
        return {"key_id": who.key_id, "name": who.name, "scopes": sorted(who.scopes)}

    @app.post(
        "/v1/keys",
        tags=["keys"],
        status_code=201,
        responses=responses(
            None, (422, "unknown scope 'root'; choose from generate, verify, mint, screen, admin")
        ),
    )
    def create_key(
        body: KeyCreate, _: Annotated[Principal, Depends(require("admin"))]
    ) -> KeyCreated:
        """Create an API key (admin). The secret is in this response only."""
        try:
            key, info = svc.keys.create(body.scopes, body.name)
        except ValueError as exc:
            raise problems.Problem(422, str(exc)) from None
        return KeyCreated(key=key, **_key_out(info).model_dump())

    @app.get("/v1/keys", tags=["keys"])
    def list_keys(_: Annotated[Principal, Depends(require("admin"))]) -> list[KeyOut]:
        """List API keys (admin); secrets are never shown."""
        return [_key_out(k) for k in svc.keys.list()]

    @app.delete(
        "/v1/keys/{key_id}",
        tags=["keys"],
        status_code=204,
        responses=responses(None, (404, "no active key 'k1'")),
    )
    def revoke_key(key_id: str, _: Annotated[Principal, Depends(require("admin"))]) -> None:
        """Revoke an API key (admin)."""
        if not svc.keys.revoke(key_id):
            raise problems.Problem(404, f"no active key {key_id!r}")

    return app


_INDEX = Path(__file__).with_name("static") / "index.html"


def page_policy(page: Path) -> str:
    """The web page's Content-Security-Policy: its own inline script by hash and nothing else
    executable; data from this origin only; never framed.

    The API key lives in the page's sessionStorage, so no injected or third-party script may run
    there. Inline ``style`` attributes stay allowed (the timeline bars are drawn with them).
    """
    html = page.read_text(encoding="utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    NONE = "'none'"
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode("utf-8")).digest()).decode() + "'"
        for b in scripts
    )
    return (
        f"default-src 'none'; script-src {hashes or NONE}; "
        "style-src 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _key_out(info: Any) -> KeyOut:
    created: datetime = info.created_at
    return KeyOut(
        key_id=info.key_id,
        name=info.name,
        scopes=list(info.scopes),
        # the store keeps UTC; SQLite hands it back naive (an RFC 3339 time needs its offset)
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        revoked=info.revoked,
    )


def app_from_env() -> FastAPI:
    """uvicorn factory entry point: ``uvicorn --factory service.app:app_from_env``."""
    return create_app()
