"""API tokens: created once and shown once, stored hashed, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from kizuna.core.parties import Party
from kizuna.errors import Forbidden, NotAuthenticated, NotFound
from kizuna.services import state
from kizuna.services.node import Node
from kizuna.services.parties import find
from kizuna.storage import parties as party_store
from kizuna.storage import tokens as token_store
from kizuna.storage import users as user_store
from kizuna.storage.tokens import TokenRecord

PREFIX = "kz"
# What a token may do: act as its party, or (an operator's monitoring) read /metrics only.
PARTY_SCOPE = "party"
MONITORING_SCOPE = "monitoring"
_TOKEN_ID = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class NewToken:
    """A token just created: the only time its secret exists outside its holder."""

    id: str
    party: Party
    secret: str
    scope: str = PARTY_SCOPE

    @property
    def value(self) -> str:
        return f"{PREFIX}_{self.id}_{self.secret}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(node: Node, party_name_or_id: str, name: str = "default") -> NewToken:
    """Issue a new token for a party."""
    return _issue(node, find(node, party_name_or_id), name, PARTY_SCOPE)


def create_monitoring(node: Node, name: str = "monitoring") -> NewToken:
    """Issue a token that may read /metrics and nothing else (for a Prometheus scraper).

    It is recorded under the home party (the operator issues it), but it never acts as it.
    """
    return _issue(node, node.home_party, name, MONITORING_SCOPE)


def _issue(node: Node, party: Party, name: str, scope: str) -> NewToken:
    token = NewToken(secrets.token_hex(6), party, secrets.token_urlsafe(32), scope)
    record = TokenRecord(token.id, party.id, name, _hash(token.secret), node.now(), None, scope)
    with node.db.write() as conn:
        token_store.add(conn, record)
    return token


def revoke(node: Node, token_id: str) -> TokenRecord:
    """Revoke a token by its id (the middle part of the token, shown by `token list`)."""
    token_id = token_id.removeprefix(f"{PREFIX}_").split("_", 1)[0]
    if not _TOKEN_ID.fullmatch(token_id):
        raise NotFound(f"no token with id {token_id!r}")
    with node.db.write() as conn:
        record = token_store.get(conn, token_id)
        if record is None:
            raise NotFound(f"no token with id {token_id!r}")
        token_store.revoke(conn, token_id, node.now())
        party_store.bump_generation(conn)  # every process forgets the token at once
        revoked = token_store.get(conn, token_id)
    assert revoked is not None
    return revoked


def list_tokens(node: Node, party_name_or_id: str | None = None) -> list[TokenRecord]:
    """Token records (never secrets), optionally of one party."""
    party_id = find(node, party_name_or_id).id if party_name_or_id else None
    with node.db.read() as conn:
        return token_store.for_party(conn, party_id)


def authenticate(node: Node, token: str, user: str | None = None) -> Party:
    """The party a token belongs to; ``user`` (HTTP Basic) must name that party if given."""
    return authenticate_person(node, token, user)[0]


def authenticate_person(
    node: Node, token: str, user: str | None = None
) -> tuple[Party, str | None]:
    """The party a token acts as, and for a personal token the name of its (active) user.

    With HTTP Basic, ``user`` names the party, or for a personal token the party or the user."""
    record, party = _check(node, token, None)
    if record.scope != PARTY_SCOPE:
        raise Forbidden("a monitoring token may read /metrics and nothing else")
    person = None
    if record.user_id is not None:
        with node.db.read() as conn:
            person = user_store.by_id(conn, record.user_id)
        if person is None or person.disabled or person.party_id != party.id:
            raise NotAuthenticated("the token's user is disabled or no longer exists")
    names = {party.id, party.name} | ({person.name} if person else set())
    if user is not None and user not in names:
        raise NotAuthenticated("the user name does not match the token's party")
    return party, person.name if person else None


def may_read_metrics(node: Node, token: str, user: str | None = None) -> None:
    """/metrics is for the home party's users and monitoring tokens: a partner's counters would
    tell it what the node withholds from it (DESIGN.md "Who may change the gate's inputs")."""
    record, party = _check(node, token, user)
    if record.scope != MONITORING_SCOPE and party.id != node.home_party.id:
        raise Forbidden(
            "only the home party's users or a monitoring token (kizuna token create --monitoring)"
            " may read /metrics"
        )


def _check(node: Node, token: str, user: str | None) -> tuple[TokenRecord, Party]:
    """The token's record and party, after the constant-time comparison of its secret."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise NotAuthenticated("the token is not a kizuna token (kz_<id>_<secret>)")
    _, token_id, secret = parts
    if not _TOKEN_ID.fullmatch(token_id):
        raise NotAuthenticated("the token is unknown, wrong or revoked")
    current = state.current(node)
    # Token records are kept per generation: a revocation bumps it, in any process.
    known: dict[str, TokenRecord] = node.cache.setdefault("tokens", {})
    if node.cache.get("tokens_generation") != current.generation:
        known.clear()
        node.cache["tokens_generation"] = current.generation
    record = known.get(token_id)
    if record is None:
        with node.db.read() as conn:
            record = token_store.get(conn, token_id)
        if record is not None:
            known[token_id] = record
    expected = record.secret_hash if record else _hash("")
    ok = hmac.compare_digest(expected, _hash(secret))
    if record is None or not ok or record.revoked_us is not None:
        raise NotAuthenticated("the token is unknown, wrong or revoked")
    party = current.parties.get(record.party_id)
    if party is None:
        raise NotAuthenticated("the token's party no longer exists")
    if user is not None and user not in (party.id, party.name):
        raise NotAuthenticated("the user name does not match the token's party")
    return record, party
