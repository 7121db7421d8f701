"""Certificates and their anchoring batches.

Revision ID: 0003_certificates
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_certificates"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cert_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("chain_id", sa.BigInteger, nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("block_time", sa.BigInteger, nullable=True),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("contract", sa.String(42), nullable=True),
        sa.Column("gas_used", sa.BigInteger, nullable=True),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_cert_batches_status", "cert_batches", ["status"])
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cert_id", sa.String(32), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("mark_id", sa.String(16), nullable=True),
        sa.Column("generation_id", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("leaf_salt", sa.String(64), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.Column(
            "batch_id",
            sa.Integer,
            sa.ForeignKey("cert_batches.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("leaf_index", sa.Integer, nullable=True),
        sa.UniqueConstraint("cert_id", name="uq_certificates_cert_id"),
    )
    op.create_index("ix_certificates_content_sha256", "certificates", ["content_sha256"])
    op.create_index("ix_certificates_mark_id", "certificates", ["mark_id"])
    op.create_index("ix_certificates_generation_id", "certificates", ["generation_id"])
    op.create_index("ix_certificates_batch_id", "certificates", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_certificates_batch_id", table_name="certificates")
    op.drop_index("ix_certificates_generation_id", table_name="certificates")
    op.drop_index("ix_certificates_mark_id", table_name="certificates")
    op.drop_index("ix_certificates_content_sha256", table_name="certificates")
    op.drop_table("certificates")
    op.drop_index("ix_cert_batches_status", table_name="cert_batches")
    op.drop_table("cert_batches")
