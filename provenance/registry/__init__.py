"""Generation registry: the SQL store of generation records (SQLite by default, PostgreSQL by URL)."""

from provenance.registry.db import Base, make_engine, session_factory, transaction
from provenance.registry.migrate import downgrade, is_up_to_date, upgrade
from provenance.registry.models import Generation, Media
from provenance.registry.store import MediaHash, Registry, RegistryError, parse_mark_id

__all__ = [
    "Base",
    "Generation",
    "Media",
    "MediaHash",
    "Registry",
    "RegistryError",
    "downgrade",
    "is_up_to_date",
    "make_engine",
    "parse_mark_id",
    "session_factory",
    "transaction",
    "upgrade",
]
