"""Fingerprint change feed: an append-only log of videos added to and removed from the index.

Workers poll its largest id (one index lookup) instead of counting the frame table, and apply
only the entries after the one they last saw. Videos already registered are written into the
feed as additions, so the feed alone tells what the frame table holds.

Revision ID: 0006_fingerprint_feed
Revises: 0002_fingerprints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_fingerprint_feed"
down_revision = "0002_fingerprints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fingerprint_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("video_pk", sa.Integer, nullable=False),
        sa.Column("op", sa.SmallInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.execute(
        "INSERT INTO fingerprint_changes (video_pk, op, created_at) "
        "SELECT id, 1, created_at FROM fingerprint_videos ORDER BY id"
    )


def downgrade() -> None:
    op.drop_table("fingerprint_changes")
