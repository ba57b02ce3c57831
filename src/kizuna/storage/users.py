"""Users, console sessions and the record of who did what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from kizuna.core.people import User
from kizuna.storage.schema import actions, sessions, users


@dataclass(frozen=True)
class SessionRecord:
    id: str
    user_id: str
    csrf: str
    created_us: int
    expires_us: int
    revoked_us: int | None


@dataclass(frozen=True)
class Action:
    seq: int
    time_us: int
    party_id: str
    user_name: str | None
    via: str
    action: str
    outcome: int


def _user(row: Sequence[object]) -> User:
    uid, name, party_id, roles, disabled, created, last = row
    return User(
        str(uid),
        str(name),
        str(party_id),
        tuple(r for r in str(roles).split(",") if r),
        bool(disabled),
        int(created),  # type: ignore[call-overload]
        None if last is None else int(last),  # type: ignore[call-overload]
    )


_USER = (
    users.c.id,
    users.c.name,
    users.c.party_id,
    users.c.roles,
    users.c.disabled,
    users.c.created_us,
    users.c.last_visit_us,
)


def add(conn: Connection, user: User, password_hash: str) -> None:
    conn.execute(
        insert(users).values(
            id=user.id,
            name=user.name,
            party_id=user.party_id,
            roles=",".join(user.roles),
            password_hash=password_hash,
            disabled=user.disabled,
            created_us=user.created_us,
        )
    )


def by_name(conn: Connection, name: str) -> tuple[User, str] | None:
    row = conn.execute(select(*_USER, users.c.password_hash).where(users.c.name == name)).first()
    return (_user(row[:-1]), str(row[-1])) if row else None


def by_id(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(select(*_USER).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def all_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(*_USER).order_by(users.c.name))]


def set_fields(conn: Connection, user_id: str, **values: object) -> None:
    if "roles" in values:
        values["roles"] = ",".join(values["roles"])  # type: ignore[arg-type]
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def add_session(conn: Connection, record: SessionRecord) -> None:
    conn.execute(
        insert(sessions).values(
            id=record.id,
            user_id=record.user_id,
            csrf=record.csrf,
            created_us=record.created_us,
            expires_us=record.expires_us,
            revoked_us=record.revoked_us,
        )
    )


def get_session(conn: Connection, session_id: str) -> SessionRecord | None:
    row = conn.execute(
        select(
            sessions.c.id,
            sessions.c.user_id,
            sessions.c.csrf,
            sessions.c.created_us,
            sessions.c.expires_us,
            sessions.c.revoked_us,
        ).where(sessions.c.id == session_id)
    ).first()
    return SessionRecord(*row) if row else None


def revoke_sessions(
    conn: Connection, now_us: int, *, session_id: str | None = None, user_id: str | None = None
) -> int:
    q = update(sessions).where(sessions.c.revoked_us.is_(None)).values(revoked_us=now_us)
    if session_id is not None:
        q = q.where(sessions.c.id == session_id)
    if user_id is not None:
        q = q.where(sessions.c.user_id == user_id)
    return int(conn.execute(q).rowcount)


def record_action(
    conn: Connection,
    time_us: int,
    party_id: str,
    user_name: str | None,
    via: str,
    action: str,
    outcome: int,
) -> None:
    conn.execute(
        insert(actions).values(
            time_us=time_us,
            party_id=party_id,
            user_name=user_name,
            via=via,
            action=action[:200],
            outcome=outcome,
        )
    )


def recent_actions(
    conn: Connection, limit: int = 100, user_name: str | None = None
) -> list[Action]:
    q = (
        select(
            actions.c.seq,
            actions.c.time_us,
            actions.c.party_id,
            actions.c.user_name,
            actions.c.via,
            actions.c.action,
            actions.c.outcome,
        )
        .order_by(actions.c.seq.desc())
        .limit(limit)
    )
    if user_name is not None:
        q = q.where(actions.c.user_name == user_name)
    return [Action(*r) for r in conn.execute(q)]
