"""agreement_notices: signed lifecycle notices (suspend, resume, terminate) that travel with
agreements and set their state on every party's node

Revision ID: 0011_agreement_notices
Revises: 0010_retired_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_agreement_notices"
down_revision = "0010_retired_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_notices",
        sa.Column("agreement_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("party", sa.String(64), primary_key=True),
        sa.Column("issued_us", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agreement_notices")
