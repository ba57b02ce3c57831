"""set_aside: quarantined copies that the sealed, genuine copy of the same version replaced,
kept for the operator and never released

Revision ID: 0009_set_aside
Revises: 0008_cache_generation
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_set_aside"
down_revision = "0008_cache_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "set_aside",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("modified", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("path", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("set_aside_us", sa.BigInteger(), nullable=False),
        sa.Column("replaced_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("set_aside")
