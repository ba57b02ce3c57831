"""API tokens: only a hash of each secret is stored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from kizuna.storage.schema import tokens


@dataclass(frozen=True)
class TokenRecord:
    id: str
    party_id: str
    name: str
    secret_hash: str
    created_us: int
    revoked_us: int | None
    scope: str = "party"  # "party", or "monitoring": /metrics only
    user_id: str | None = None  # a personal token: the user it acts for


def add(conn: Connection, record: TokenRecord) -> None:
    conn.execute(
        insert(tokens).values(
            id=record.id,
            party_id=record.party_id,
            name=record.name,
            secret_hash=record.secret_hash,
            created_us=record.created_us,
            revoked_us=record.revoked_us,
            scope=record.scope,
            user_id=record.user_id,
        )
    )


_COLUMNS = (
    tokens.c.id,
    tokens.c.party_id,
    tokens.c.name,
    tokens.c.secret_hash,
    tokens.c.created_us,
    tokens.c.revoked_us,
    tokens.c.scope,
    tokens.c.user_id,
)


def get(conn: Connection, token_id: str) -> TokenRecord | None:
    row = conn.execute(select(*_COLUMNS).where(tokens.c.id == token_id)).first()
    return TokenRecord(*row) if row else None


def for_party(conn: Connection, party_id: str | None = None) -> list[TokenRecord]:
    q = select(*_COLUMNS).order_by(tokens.c.created_us)
    if party_id is not None:
        q = q.where(tokens.c.party_id == party_id)
    return [TokenRecord(*r) for r in conn.execute(q)]


def revoke(conn: Connection, token_id: str, now_us: int) -> bool:
    result = conn.execute(
        update(tokens)
        .where(tokens.c.id == token_id, tokens.c.revoked_us.is_(None))
        .values(revoked_us=now_us)
    )
    return bool(result.rowcount)
