"""Schema migrations (Alembic) for the provkit store.

The migration scripts ship inside the package, so an installed provkit can create or upgrade its
store without a checkout. Each part adds its tables in its own revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from provenance.registry.db import make_engine, normalize_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations up to ``revision`` (default: every head)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to ``revision`` (default: an empty schema)."""
    command.downgrade(alembic_config(url), revision)


def head_revisions() -> set[str]:
    """Revisions the packaged scripts lead to."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """Revisions the database at ``engine`` is at (empty when never migrated)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_up_to_date(url: str) -> bool:
    """True when the store at ``url`` carries every packaged migration."""
    engine = make_engine(url)
    try:
        return current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()
