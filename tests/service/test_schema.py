"""The service owns its tables: its revisions live in service/migrations and join the parts'."""

from __future__ import annotations

from sqlalchemy import inspect

from provenance.registry import make_engine
from provenance.registry import migrate as parts
from service import schema

SERVICE_TABLES = {"screening_decisions", "jobs"}


def test_the_parts_alone_create_no_service_table(empty_db_url: str) -> None:
    parts.upgrade(empty_db_url)
    tables = set(inspect(make_engine(empty_db_url)).get_table_names())
    assert {"generations", "fingerprint_frames", "certificates"} <= tables
    assert not SERVICE_TABLES & tables


def test_the_service_schema_is_the_parts_plus_its_own(empty_db_url: str) -> None:
    assert parts.head_revisions() < schema.head_revisions()
    assert "0004_service" in schema.head_revisions() - parts.head_revisions()
    assert not schema.is_up_to_date(empty_db_url)
    schema.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    assert schema.current_revisions(engine) == schema.head_revisions()
    assert set(inspect(engine).get_table_names()) >= SERVICE_TABLES
    schema.downgrade(empty_db_url, "base")
    assert not SERVICE_TABLES & set(inspect(make_engine(empty_db_url)).get_table_names())
    schema.upgrade(empty_db_url)
    assert schema.is_up_to_date(empty_db_url)


def test_every_service_revision_branches_from_the_foundation() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(parts.alembic_config("sqlite://", schema.LOCATIONS))
    for rev in scripts.walk_revisions():
        if rev.path.startswith(str(schema.SERVICE_VERSIONS)):
            assert rev.down_revision is not None
