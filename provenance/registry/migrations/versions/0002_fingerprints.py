"""Video fingerprints: registered videos and their per-frame PDQ hashes.

Revision ID: 0002_fingerprints
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_fingerprints"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fingerprint_videos",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(255), nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("n_frames", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("video_id", name="uq_fingerprint_videos_video_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "fingerprint_frames",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "video_pk",
            sa.Integer,
            sa.ForeignKey("fingerprint_videos.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("t_s", sa.Float, nullable=False),
        sa.Column("quality", sa.SmallInteger, nullable=False),
        sa.Column("variant", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("pdq", sa.LargeBinary(32), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_fingerprint_frames_video_pk", "fingerprint_frames", ["video_pk"])


def downgrade() -> None:
    op.drop_index("ix_fingerprint_frames_video_pk", table_name="fingerprint_frames")
    op.drop_table("fingerprint_frames")
    op.drop_table("fingerprint_videos")
