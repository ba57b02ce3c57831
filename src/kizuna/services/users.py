"""People as a use case: accounts, roles, passwords (Argon2id), console sessions, personal tokens.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters: RFC 9106's second
recommended set); session cookies carry a random secret of which only a SHA-256 hash is stored;
failed logins are limited per user name and per client address.
"""

from __future__ import annotations

import hmac
import secrets
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kizuna.core import people
from kizuna.core.parties import Party
from kizuna.core.people import User
from kizuna.errors import (
    AlreadyExists,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from kizuna.services import state
from kizuna.services.node import Node
from kizuna.services.parties import find
from kizuna.services.tokens import PARTY_SCOPE, PREFIX, NewToken, _hash
from kizuna.storage import parties as party_store
from kizuna.storage import tokens as token_store
from kizuna.storage import users as store
from kizuna.storage.tokens import TokenRecord
from kizuna.storage.users import Action, SessionRecord

_HASHER = PasswordHasher()  # Argon2id
SESSION_LIFETIME_US = 12 * 3600 * 1_000_000
# Failed logins allowed within the window, per user name and per client address.
FAILURE_WINDOW_US = 15 * 60 * 1_000_000
FAILURES_PER_NAME = 5
FAILURES_PER_CLIENT = 20
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash("kizuna: no such user")


@dataclass(frozen=True)
class Session:
    """A logged-in user: the cookie's secret (only on login), its CSRF token, its party."""

    user: User
    party: Party
    csrf: str
    secret: str = ""


def _party_of(node: Node, user: User) -> Party:
    party = state.current(node).parties.get(user.party_id)
    if party is None:
        raise NotAuthenticated("the user's party no longer exists")
    return party


def _check(fn: object, value: object) -> object:
    try:
        return fn(value)  # type: ignore[operator]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def new_password() -> str:
    return secrets.token_urlsafe(15)


def add(
    node: Node,
    name: str,
    *,
    party: str | None = None,
    roles: tuple[str, ...] = ("analyst",),
    password: str | None = None,
) -> tuple[User, str]:
    """Create a user (of the home party unless ``party`` names another); returns its password."""
    _check(people.check_name, name)
    checked_roles: tuple[str, ...] = _check(people.check_roles, roles)  # type: ignore[assignment]
    if not checked_roles:
        raise InvalidInput("a user needs at least one role")
    password = password if password is not None else new_password()
    _check(people.check_password, password)
    who = find(node, party) if party else node.home_party
    user = User(secrets.token_hex(8), name, who.id, checked_roles, False, node.now())
    with node.db.write() as conn:
        if store.by_name(conn, name) is not None:
            raise AlreadyExists(f"a user named {name!r} exists already")
        store.add(conn, user, _HASHER.hash(password))
    return user, password


def first_login(node: Node, name: str = "admin") -> str:
    """A console login for the operator: the user ``name`` of the home party with every role,
    created if missing, else enabled again with a new password. Returns the password."""
    with node.db.read() as conn:
        exists = store.by_name(conn, name) is not None
    if not exists:
        return add(node, name, roles=people.ROLES)[1]
    disable(node, name, False)
    set_roles(node, name, people.ROLES)
    return reset_password(node, name)


def get(node: Node, name: str) -> User:
    with node.db.read() as conn:
        found = store.by_name(conn, name)
    if found is None:
        raise NotFound(f"no user named {name!r}")
    return found[0]


def list_users(node: Node) -> list[User]:
    with node.db.read() as conn:
        return store.all_users(conn)


def set_roles(node: Node, name: str, roles: tuple[str, ...]) -> User:
    checked: tuple[str, ...] = _check(people.check_roles, roles)  # type: ignore[assignment]
    if not checked:
        raise InvalidInput("a user needs at least one role (disable it instead)")
    user = get(node, name)
    with node.db.write() as conn:
        store.set_fields(conn, user.id, roles=checked)
    return get(node, name)


def disable(node: Node, name: str, disabled: bool = True) -> User:
    """Disable (or enable again) a user: its sessions end and its personal tokens stop working."""
    user = get(node, name)
    with node.db.write() as conn:
        store.set_fields(conn, user.id, disabled=disabled)
        store.revoke_sessions(conn, node.now(), user_id=user.id)
        party_store.bump_generation(conn)  # every process forgets cached tokens
    return get(node, name)


def reset_password(node: Node, name: str, password: str | None = None) -> str:
    """A new password (generated unless given); every session of the user ends."""
    user = get(node, name)
    password = password if password is not None else new_password()
    _check(people.check_password, password)
    with node.db.write() as conn:
        store.set_fields(conn, user.id, password_hash=_HASHER.hash(password))
        store.revoke_sessions(conn, node.now(), user_id=user.id)
    return password


def _failures(node: Node, key: str) -> deque[int]:
    table: dict[str, deque[int]] = node.cache.setdefault("login_failures", {})
    q = table.setdefault(key, deque())
    cutoff = node.now() - FAILURE_WINDOW_US
    while q and q[0] < cutoff:
        q.popleft()
    return q


def login(node: Node, name: str, password: str, client: str = "-") -> Session:
    """Check a password and open a session; refused alike for an unknown name or wrong password."""
    by_name = _failures(node, f"name:{name}")
    by_client = _failures(node, f"client:{client}")
    if len(by_name) >= FAILURES_PER_NAME or len(by_client) >= FAILURES_PER_CLIENT:
        raise TooManyRequests("too many failed logins: wait a few minutes and try again")
    with node.db.read() as conn:
        found = store.by_name(conn, name) if len(name) <= 100 else None
    ok = False
    try:
        ok = _HASHER.verify(found[1] if found else _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None or found[0].disabled:
        now = node.now()
        by_name.append(now)
        by_client.append(now)
        raise NotAuthenticated("wrong user name or password, or the user is disabled")
    user, encoded = found
    secret = secrets.token_urlsafe(32)
    record = SessionRecord(
        _hash(secret),
        user.id,
        secrets.token_urlsafe(24),
        node.now(),
        node.now() + SESSION_LIFETIME_US,
        None,
    )
    with node.db.write() as conn:
        store.add_session(conn, record)
        if _HASHER.check_needs_rehash(encoded):
            store.set_fields(conn, user.id, password_hash=_HASHER.hash(password))
    by_name.clear()
    return Session(user, _party_of(node, user), record.csrf, secret)


def session(node: Node, secret: str) -> Session:
    """The session a cookie's secret opens; NotAuthenticated if unknown, expired or revoked."""
    with node.db.read() as conn:
        record = store.get_session(conn, _hash(secret)) if secret.isprintable() else None
        user = store.by_id(conn, record.user_id) if record else None
    if (
        record is None
        or user is None
        or user.disabled
        or record.revoked_us is not None
        or record.expires_us <= node.now()
    ):
        raise NotAuthenticated("not logged in, or the session has ended")
    return Session(user, _party_of(node, user), record.csrf)


def check_csrf(session: Session, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(session.csrf.encode(), presented.encode()):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and retry")


def logout(node: Node, secret: str) -> None:
    with node.db.write() as conn:
        store.revoke_sessions(conn, node.now(), session_id=_hash(secret))


def revoke_sessions(node: Node, name: str) -> int:
    """End every session of a user (it must log in again)."""
    user = get(node, name)
    with node.db.write() as conn:
        return store.revoke_sessions(conn, node.now(), user_id=user.id)


def touch_visit(node: Node, user: User) -> int | None:
    """Record this visit; returns the previous one."""
    with node.db.write() as conn:
        store.set_fields(conn, user.id, last_visit_us=node.now())
    return user.last_visit_us


def create_token(node: Node, name: str, token_name: str = "personal") -> NewToken:
    """A personal API token: acts as the user's party, recorded as the user."""
    user = get(node, name)
    if user.disabled:
        raise Forbidden(f"user {name!r} is disabled")
    party = _party_of(node, user)
    token = NewToken(secrets.token_hex(6), party, secrets.token_urlsafe(32), PARTY_SCOPE)
    record = TokenRecord(
        token.id,
        party.id,
        token_name,
        _hash(token.secret),
        node.now(),
        None,
        PARTY_SCOPE,
        user.id,
    )
    with node.db.write() as conn:
        token_store.add(conn, record)
    return token


def token_user(node: Node, user_id: str) -> User:
    """The active user a personal token acts for; NotAuthenticated if disabled or gone."""
    with node.db.read() as conn:
        user = store.by_id(conn, user_id)
    if user is None or user.disabled:
        raise NotAuthenticated("the token's user is disabled or no longer exists")
    return user


def require(user: User, action: str) -> None:
    """Forbidden, naming the roles needed, unless the user may do this."""
    if not user.may(action):
        raise Forbidden(
            f"this needs the role {people.needed(action)}; {user.name} has "
            f"{', '.join(user.roles) or 'none'}"
        )


def record(
    node: Node, party_id: str, user_name: str | None, via: str, action: str, outcome: int
) -> None:
    """Write one line of who did what (a person's name when a person acted)."""
    with node.db.write() as conn:
        store.record_action(conn, node.now(), party_id, user_name, via, action, outcome)


def actions(node: Node, limit: int = 100, user: str | None = None) -> list[Action]:
    with node.db.read() as conn:
        return store.recent_actions(conn, limit, user)


__all__ = ["PREFIX", "Session"]
