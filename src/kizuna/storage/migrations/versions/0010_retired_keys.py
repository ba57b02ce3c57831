"""party_keys: retired_us, when a party's key was retired (it verifies what it signed before,
and signs nothing new)

Revision ID: 0010_retired_keys
Revises: 0009_set_aside
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_retired_keys"
down_revision = "0009_set_aside"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("party_keys") as batch:
        batch.add_column(sa.Column("retired_us", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("party_keys") as batch:
        batch.drop_column("retired_us")
