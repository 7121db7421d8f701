"""API keys: random secrets shown once, stored only as SHA-256, each with a set of scopes.

A key reads ``pk_<key_id>_<secret>``; the store keeps ``key_id`` (to find the row) and the SHA-256
of the whole key. Comparison is constant-time. Secrets never enter logs or responses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from provenance.registry.db import Base, session_factory, transaction

SCOPES = ("generate", "verify", "mint", "screen", "admin")


class ApiKeyRow(Base):
    """An API key row (migration ``0001_foundation``)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class Principal:
    """The caller behind a verified API key."""

    key_id: str
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        """``admin`` implies every scope."""
        return scope in self.scopes or "admin" in self.scopes


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never its secret."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked: bool


def parse_scopes(scopes: list[str] | tuple[str, ...] | str) -> tuple[str, ...]:
    """Validate scope names (comma-separated string or list)."""
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    out = tuple(sorted({s.strip() for s in items if s.strip()}))
    if not out:
        raise ValueError("at least one scope is required")
    bad = [s for s in out if s not in SCOPES]
    if bad:
        raise ValueError(f"unknown scope {bad[0]!r}; choose from {', '.join(SCOPES)}")
    return out


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """Create, verify, list and revoke API keys.

    Verified keys are remembered in-process for ``cache_ttl`` seconds (by the key's SHA-256, never
    the key itself), so a busy worker does not query the store on every request. A revocation
    takes effect at once in the process that revoked the key and within ``cache_ttl`` elsewhere;
    admin operations ask the store every time (:meth:`is_active`), so a revoked admin key stops
    managing keys at once in every process.
    """

    def __init__(self, engine: object, cache_ttl: float = 10.0) -> None:
        from sqlalchemy import Engine

        assert isinstance(engine, Engine)
        self.sessions = session_factory(engine)
        self.cache_ttl = cache_ttl
        self._cache: dict[str, tuple[Principal, float]] = {}

    def create(
        self, scopes: list[str] | tuple[str, ...] | str, name: str = ""
    ) -> tuple[str, KeyInfo]:
        """Create a key; returns the full secret key (shown once) and its public info."""
        sc = parse_scopes(scopes)
        if len(name) > 128:
            raise ValueError("key name is longer than 128 characters")
        key_id = secrets.token_hex(6)
        key = f"pk_{key_id}_{secrets.token_urlsafe(32)}"
        now = datetime.now(UTC)
        with transaction(self.sessions) as s:
            s.add(
                ApiKeyRow(
                    key_id=key_id,
                    secret_sha256=_digest(key),
                    scopes=",".join(sc),
                    name=name,
                    created_at=now,
                )
            )
        return key, KeyInfo(key_id, name, sc, now, False)

    def cached(self, key: str) -> Principal | None:
        """The principal for ``key`` if this process verified it within ``cache_ttl``, else None
        (without asking the store: safe on the event loop)."""
        if len(key) > 200:
            return None
        hit = self._cache.get(_digest(key))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def is_active(self, key_id: str) -> bool:
        """Whether the store holds ``key_id`` unrevoked right now (no cache)."""
        with self.sessions() as s:
            row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).one_or_none()
        return row is not None and row.revoked_at is None

    def verify(self, key: str) -> Principal | None:
        """The principal for ``key``, or None when unknown, malformed or revoked."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "pk" or len(key) > 200:
            return None
        hit = self.cached(key)
        if hit is not None:
            return hit
        digest = _digest(key)
        now = time.monotonic()
        with self.sessions() as s:
            row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == parts[1])).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_sha256, digest):
            return None
        who = Principal(row.key_id, row.name, frozenset(row.scopes.split(",")))
        if self.cache_ttl > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (who, now + self.cache_ttl)
        return who

    def list(self) -> list[KeyInfo]:
        """Every key, newest first, without secrets."""
        with self.sessions() as s:
            rows = s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id.desc())).all()
        return [
            KeyInfo(
                r.key_id, r.name, tuple(r.scopes.split(",")), r.created_at, r.revoked_at is not None
            )
            for r in rows
        ]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by id; False when no such active key."""
        with transaction(self.sessions) as s:
            row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).one_or_none()
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = datetime.now(UTC)
        self._cache = {d: v for d, v in self._cache.items() if v[0].key_id != key_id}
        return True
