"""Schema migrations (Alembic) for the provkit store.

The migration scripts ship inside the package, so an installed provkit can create or upgrade its
store without a checkout. Each part adds its tables in its own revision, on its own branch from
``0001_foundation``. A layer built on top of these parts keeps its own revisions in a folder of its
own and passes it as ``locations`` (the service does: ``service.schema``); every function here
then sees both folders as one history.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from provenance.registry.db import make_engine, normalize_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str, locations: Sequence[Path] = ()) -> Config:
    """An Alembic configuration for ``url``: the packaged migrations plus the revision folders
    in ``locations``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    folders = [MIGRATIONS_DIR / "versions", *locations]
    cfg.set_main_option("version_path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in folders))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads", locations: Sequence[Path] = ()) -> None:
    """Apply migrations up to ``revision`` (default: every head)."""
    command.upgrade(alembic_config(url, locations), revision)


def downgrade(url: str, revision: str = "base", locations: Sequence[Path] = ()) -> None:
    """Revert migrations down to ``revision`` (default: an empty schema)."""
    command.downgrade(alembic_config(url, locations), revision)


def head_revisions(locations: Sequence[Path] = ()) -> set[str]:
    """Revisions the packaged scripts (and ``locations``) lead to."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://", locations)).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """Revisions the database at ``engine`` is at (empty when never migrated)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_up_to_date(url: str, locations: Sequence[Path] = ()) -> bool:
    """True when the store at ``url`` carries every packaged migration (and ``locations``')."""
    engine = make_engine(url)
    try:
        return current_revisions(engine) == head_revisions(locations)
    finally:
        engine.dispose()
