"""The store's schema as the service sees it: the parts' migrations plus the service's own.

The service owns its tables (``screening_decisions``, ``jobs``; see :mod:`service.store`) and
their revisions, in ``service/migrations/versions`` (a branch from ``0001_foundation``, like each
part's). Every service entry point migrates and checks the store through this module, so the two
folders always read as one history. (``api_keys``, :class:`service.auth.ApiKey`, predates this
split: the first revision created it, and its later changes go in the service's folder.)
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from provenance.registry import migrate

#: the service's own revision folder
SERVICE_VERSIONS = Path(__file__).with_name("migrations") / "versions"
LOCATIONS = (SERVICE_VERSIONS,)


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply every migration (the parts' and the service's) up to ``revision``."""
    migrate.upgrade(url, revision, LOCATIONS)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to ``revision`` (default: an empty schema)."""
    migrate.downgrade(url, revision, LOCATIONS)


def head_revisions() -> set[str]:
    """The revisions a fully migrated store is at."""
    return migrate.head_revisions(LOCATIONS)


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the store at ``engine`` is at (empty when never migrated)."""
    return migrate.current_revisions(engine)


def is_up_to_date(url: str) -> bool:
    """True when the store at ``url`` carries every migration."""
    return migrate.is_up_to_date(url, LOCATIONS)
