"""Alembic environment for the provkit store (migrations are written by hand)."""

from __future__ import annotations

from alembic import context

from provenance.registry.db import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set"

connectable = config.attributes.get("connection")
if connectable is None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
else:
    context.configure(connection=connectable)
    with context.begin_transaction():
        context.run_migrations()
