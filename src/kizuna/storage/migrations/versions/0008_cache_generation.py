"""node: a second counter, ``caches``, bumped when settings, marking definitions or received
seals change, so every process of a node drops what it remembers of them

Revision ID: 0008_cache_generation
Revises: 0007_users
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_cache_generation"
down_revision = "0007_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node") as batch:
        batch.add_column(
            sa.Column("caches", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("node") as batch:
        batch.drop_column("caches")
