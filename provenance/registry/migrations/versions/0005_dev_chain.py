"""The development chain's journal: every raw transaction the embedded chain accepted.

Revision ID: 0005_dev_chain
Revises: 0003_certificates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dev_chain"
down_revision = "0003_certificates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dev_chain_txs",
        sa.Column("block_number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("block_time", sa.BigInteger, nullable=False),
        sa.Column("raw_tx", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tx_hash", name="uq_dev_chain_txs_tx_hash"),
    )


def downgrade() -> None:
    op.drop_table("dev_chain_txs")
