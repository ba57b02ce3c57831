"""markings: rule 7 follows no authorship; seals say whom a relayed object came from

Revision ID: 0005_markings
Revises: 0004_view
"""

import orjson
import sqlalchemy as sa
from alembic import op

from kizuna.core.stix.refs import references

revision = "0005_markings"
down_revision = "0004_view"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    if "received_from" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("seals")}:
        op.add_column("seals", sa.Column("received_from", sa.String(length=64), nullable=True))
    # The references rule 7 follows leave out an object's own created_by_ref (its author): the
    # handling of an object is its own (DESIGN.md). Recompute them for stored versions.
    conn = op.get_bind()
    objects = sa.table(
        "objects",
        sa.column("date_added", sa.BigInteger),
        sa.column("content", sa.LargeBinary),
        sa.column("refs", sa.Text),
    )
    last = -1
    while True:
        rows = conn.execute(
            sa.select(objects.c.date_added, objects.c.content, objects.c.refs)
            .where(objects.c.date_added > last)
            .order_by(objects.c.date_added)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for date_added, content, refs in rows:
            obj = orjson.loads(content)
            if isinstance(obj, dict) and "created_by_ref" in obj:
                new = " ".join(references(obj, authorship=False))
                if new != refs:
                    conn.execute(
                        sa.update(objects)
                        .where(objects.c.date_added == date_added)
                        .values(refs=new)
                    )
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_column("seals", "received_from")
