"""Parties: register, list, look up; each party is also a STIX identity the node holds."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from kizuna.core import party_names
from kizuna.core.parties import Party, check_jurisdiction, check_kind, check_scheme, identity_object
from kizuna.core.signing import key_id, unb64
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import AlreadyExists, InvalidInput, NotFound
from kizuna.services.node import Node
from kizuna.storage import parties as party_store


def all_parties(node: Node) -> list[Party]:
    """Every party the node knows, home first."""
    with node.db.read() as conn:
        return party_store.all_parties(conn)


def find(node: Node, name_or_id: str) -> Party:
    """A party by id or by name (NFKC, case-insensitive); NotFound says which."""
    wanted = name_or_id.strip()
    for party in all_parties(node):
        if party.id == wanted or party_names.key(party.name) == party_names.key(wanted):
            return party
    raise NotFound(f"no party named or with id {wanted!r}; `kizuna party list` shows them")


def checked_name(name: str, known: Iterable[Party], party_id: str | None = None) -> str:
    """``name`` normalised, refused when invisible characters hide in it or it looks like the
    name of another party (``party_id`` is the party it names, when it exists)."""
    try:
        normal = party_names.normalise(name)
    except party_names.InvalidPartyName as exc:
        raise InvalidInput(str(exc), code="invalid-party-name") from exc
    other = party_names.look_alike(normal, [(p.name, p) for p in known if p.id != party_id])
    if other is not None:
        raise AlreadyExists(
            f"the party name {normal!r} looks like the name of the party {other.name!r} "
            f"({other.id}) that exists already; look-alike names are refused, choose a "
            "distinct one",
            code="party-name-look-alike",
        )
    return normal


def register(node: Node, party: Party) -> Party:
    """Store a party and its identity object (TLP:CLEAR, so every party can resolve it)."""
    now = node.now()
    with node.db.write() as conn:
        store_new(conn, party, now)
    publish_identity(node, party, now)
    return party


def store_new(conn: Connection, party: Party, now: int) -> None:
    """Store a new party in an open transaction: its id unused, its name no look-alike."""
    known = {p.id: p for p in party_store.all_parties(conn)}
    if party.id in known:
        raise AlreadyExists(f"party {party.id} exists already ({known[party.id].name})")
    name = checked_name(party.name, known.values())
    if name != party.name:
        raise InvalidInput(f"party name {party.name!r} is not in its normal form {name!r}")
    party_store.add(conn, party, now)
    party_store.bump_generation(conn)


def publish_identity(node: Node, party: Party, now: int) -> None:
    """Hold the party's STIX identity object, as the party's own."""
    from kizuna.services import ingest

    identity = identity_object(party, format_timestamp(now))
    outcome = ingest.ingest(node, [identity], submitter=party, path="registry")[0]
    if outcome.error is not None:
        raise outcome.error


def add_party(
    node: Node,
    name: str,
    *,
    jurisdiction: str,
    kind: str,
    scheme: str | None = None,
    sector: str | None = None,
    party_id: str | None = None,
    public_keys: tuple[str, ...] = (),
    client: bool = False,
) -> Party:
    """Register a new party with checked attributes."""
    name = checked_name(name, all_parties(node))
    try:
        party = Party(
            id=party_id or node.new_id("identity"),
            name=name,
            jurisdiction=check_jurisdiction(jurisdiction),
            kind=check_kind(kind),
            scheme=check_scheme(scheme) if scheme else None,
            sector=sector,
            public_keys=tuple(_check_key(k) for k in public_keys),
            is_client=client,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if not party.id.startswith("identity--"):
        raise InvalidInput(f"a party id is an identity id (identity--<uuid>), not {party.id!r}")
    return register(node, party)


def _check_key(key: str) -> str:
    try:
        raw = unb64(key.strip())
    except ValueError as exc:
        raise ValueError(f"public key {key!r} is not base64url") from exc
    if len(raw) != 32:
        raise ValueError(f"public key {key!r} is not a raw 32-byte Ed25519 key")
    return key.strip()


def update_party(
    node: Node,
    name_or_id: str,
    *,
    client: bool | None = None,
    sector: str | None = None,
    scheme: str | None = None,
    add_keys: tuple[str, ...] = (),
    retire_keys: tuple[str, ...] = (),
) -> Party:
    """Change what the policy needs to know of a party: client status, sector, scheme, keys.

    Its name is looked up in normal form (NFKC, case folded) and never changes here.
    """
    party = find(node, name_or_id)
    values: dict[str, object] = {}
    try:
        if client is not None:
            if party.is_home and client:
                raise ValueError("the home party cannot be its own client")
            values["is_client"] = client
        if sector is not None:
            values["sector"] = sector
        if scheme is not None:
            values["scheme"] = check_scheme(scheme) if scheme else None
        keys = [_check_key(k) for k in add_keys]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    now = node.now()
    with node.db.write() as conn:
        if values:
            party_store.update_party(conn, party.id, **values)
        for key in keys:
            party_store.add_key(conn, party.id, key, now)
        for kid in retire_keys:
            if party.is_home and kid == key_id(node.public_key):
                raise InvalidInput(
                    f"{kid} is the key this node signs with: `kizuna key rotate` first"
                )
            if not party_store.retire_key(conn, party.id, kid, now):
                raise InvalidInput(
                    f"{party.name} has no key {kid} in use (see `kizuna party list`)"
                )
        party_store.bump_generation(conn)
    return find(node, party.id)
