"""view index: every object version's view key (services.view)

Revision ID: 0004_view
Revises: 0003
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004_view"
down_revision = "0003"
branch_labels = None
depends_on = None

_BATCH = 5000


def _digest(stix_type: str, source: str, submitted_by: str, first_hop: bool, handling: str) -> str:
    # As storage.view_keys.digest_of at this revision.
    joined = "\0".join((stix_type, source, submitted_by, "1" if first_hop else "0", handling))
    return hashlib.sha256(joined.encode()).hexdigest()


def upgrade() -> None:
    view_keys = op.create_table(
        "view_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=250), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("first_hop", sa.Boolean(), nullable=False),
        sa.Column("handling", sa.Text(), nullable=False),
        sa.Column("last_added", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    with op.batch_alter_table("view_keys", schema=None) as batch_op:
        batch_op.create_index("ix_view_keys_last_added", ["last_added"], unique=False)
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("view_key", sa.Integer(), nullable=True))
    _fill(op.get_bind(), view_keys)
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.alter_column("view_key", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_objects_view_key", ["view_key", "date_added"], unique=False)


def _fill(conn: sa.Connection, view_keys: sa.Table) -> None:
    """Give every stored version its key, a batch at a time in ``date_added`` order."""
    objects = sa.table(
        "objects",
        sa.column("date_added", sa.BigInteger()),
        sa.column("type", sa.String()),
        sa.column("source", sa.String()),
        sa.column("submitted_by", sa.String()),
        sa.column("first_hop", sa.Boolean()),
        sa.column("handling", sa.Text()),
        sa.column("view_key", sa.Integer()),
    )
    known: dict[str, int] = {}
    position = None
    while True:
        q = sa.select(
            objects.c.date_added,
            objects.c.type,
            objects.c.source,
            objects.c.submitted_by,
            objects.c.first_hop,
            objects.c.handling,
        ).order_by(objects.c.date_added)
        if position is not None:
            q = q.where(objects.c.date_added > position)
        rows = conn.execute(q.limit(_BATCH)).all()
        if not rows:
            return
        updates = []
        for date_added, stix_type, source, submitted_by, first_hop, handling in rows:
            digest = _digest(stix_type, source, submitted_by, bool(first_hop), handling)
            key = known.get(digest)
            if key is None:
                conn.execute(
                    view_keys.insert().values(
                        digest=digest,
                        type=stix_type,
                        source=source,
                        submitted_by=submitted_by,
                        first_hop=bool(first_hop),
                        handling=handling,
                        last_added=0,
                    )
                )
                key = known[digest] = conn.execute(
                    sa.select(view_keys.c.id).where(view_keys.c.digest == digest)
                ).scalar_one()
            updates.append({"d": date_added, "k": key})
        conn.execute(
            objects.update()
            .where(objects.c.date_added == sa.bindparam("d"))
            .values(view_key=sa.bindparam("k")),
            updates,
        )
        conn.execute(
            view_keys.update()
            .where(view_keys.c.id == sa.bindparam("k"))
            .values(last_added=sa.bindparam("d")),
            list({u["k"]: u for u in updates}.values()),
        )
        position = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("objects", schema=None) as batch_op:
        batch_op.drop_index("ix_objects_view_key")
        batch_op.drop_column("view_key")
    with op.batch_alter_table("view_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_view_keys_last_added")
    op.drop_table("view_keys")
