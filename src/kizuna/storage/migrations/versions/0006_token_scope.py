"""tokens: a scope, so an operator can issue a token that may read /metrics only

Revision ID: 0006_sidechannels
Revises: 0005_markings
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_sidechannels"
down_revision = "0005_markings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(
            sa.Column(
                "scope", sa.String(length=16), server_default=sa.text("'party'"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("scope")
