"""Consents as a use case: grant, revoke, list. A consent is a signed STIX object like any other."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from kizuna.core import consents as core
from kizuna.core.consents import CONSENT_TYPE, Consent
from kizuna.core.parties import Party
from kizuna.core.signing import public_key_of
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import Forbidden, InvalidInput, NotFound, OriginatorMismatch
from kizuna.services import ingest, state
from kizuna.services import parties as party_service
from kizuna.services.node import Node
from kizuna.storage import objects as store


def _signer(node: Node, originator: Party, private_key: bytes | None) -> bytes:
    if private_key is None:
        if originator.id != node.home_party.id:
            raise InvalidInput(
                f"a consent of {originator.name} must be signed with its own key (--key FILE)"
            )
        return node.private_key
    if public_key_of(private_key) not in originator.public_keys:
        raise Forbidden(f"that key is not a key of {originator.name} known to this node")
    return private_key


def grant(
    node: Node,
    *,
    expires_us: int,
    objects: Iterable[str] = (),
    types: Iterable[str] = (),
    parties: Iterable[str] = (),
    agreements: Iterable[str] = (),
    originator: str | None = None,
    private_key: bytes | None = None,
) -> Consent:
    """Sign and store a consent; the gate uses it from the next decision on."""
    who = party_service.find(node, originator) if originator else node.home_party
    to_parties = sorted(party_service.find(node, p).id for p in parties)
    to_agreements = sorted(agreements)
    if not to_parties and not to_agreements:
        raise InvalidInput("a consent names at least one party or agreement (--to / --agreement)")
    now = node.now()
    if expires_us <= now:
        raise InvalidInput("a consent must expire in the future")
    objects = sorted(objects)
    check_originator(node, who, objects)
    obj = core.consent_object(
        node.new_id(CONSENT_TYPE),
        who.id,
        format_timestamp(now),
        format_timestamp(expires_us),
        objects=objects,
        types=types,
        parties=to_parties,
        agreements=to_agreements,
        notify=_holders(node, who, objects) - set(to_parties) - {who.id},
    )
    signed = core.sign_consent(obj, _signer(node, who, private_key))
    _store(node, signed, who)
    return core.parse_consent(signed, who.public_keys)


def sources_of(node: Node, objects: Iterable[str]) -> dict[str, str | None]:
    """The source of record of each object (None where this node holds no such object)."""
    wanted = sorted(set(objects))
    with node.db.read() as conn:
        held = store.latest(conn, wanted)
    return {oid: held[oid].source if oid in held else None for oid in wanted}


def check_originator(node: Node, originator: Party, objects: Iterable[str]) -> None:
    """Refuse a consent by anyone but the source of record of every object it names: only the
    originator consents to an object's onward release (DESIGN.md "originator", rule 6)."""
    sources = sources_of(node, objects)
    names = {p.id: p.name for p in party_service.all_parties(node)}
    # An object this node does not hold cannot be checked here; the gate applies a consent
    # only to objects of its originator (``Consent.covers``), and `consent list` says
    # "unverified" until the object arrives.
    for oid, src in sorted(sources.items()):
        if src is not None and src != originator.id:
            owner = names.get(str(src), str(src))
            raise OriginatorMismatch(
                f"{originator.name} may not consent to the release of {oid}: only its"
                f" originator (source of record), {owner}, may",
                code="consent-not-by-originator",
            )


def check_submitted(node: Node, submitter: Party, objects: Iterable[str]) -> None:
    """A partner's consent may name only objects it originated that this node holds; the
    answer is the same for an object held under another originator and for one not held, so
    it tells the partner nothing of what exists outside its view."""
    sources = sources_of(node, objects)
    foreign = sorted(oid for oid, src in sources.items() if src != submitter.id)
    if foreign:
        raise OriginatorMismatch(
            f"a consent may name only objects you originated that this node holds; "
            f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not",
            code="consent-not-by-originator",
        )


def state_of(consent: Consent, sources: dict[str, str | None], now_us: int) -> str:
    """How a consent stands: revoked, expired, invalid (it names another originator's object),
    unverified (it names objects this node does not hold), or valid."""
    if consent.revoked:
        return "revoked"
    if consent.expires_us <= now_us:
        return "expired"
    foreign = sorted(o for o in consent.objects if sources.get(o) not in (None, consent.originator))
    if foreign:
        return f"invalid: not the originator of {', '.join(foreign)}"
    unknown = sorted(o for o in consent.objects if sources.get(o) is None)
    if unknown:
        return f"unverified: {', '.join(unknown)} not held here"
    return "valid"


def states(node: Node, consents: Iterable[Consent], viewer: Party | None = None) -> dict[str, str]:
    """``state_of`` for each consent, by id, with one look-up of the objects they name.

    For a ``viewer`` other than the home party, an object held under another originator and
    one not held read alike (invalid), so the answer reveals nothing outside its view."""
    consents = list(consents)
    sources = sources_of(node, (o for c in consents for o in c.objects))
    if viewer is not None and viewer.id != node.home_party.id:
        sources = {o: (viewer.id if src == viewer.id else "") for o, src in sources.items()}
    now = node.now()
    return {c.id: state_of(c, sources, now) for c in consents}


def _holders(node: Node, originator: Party, objects: list[str]) -> set[str]:
    """Who must learn of the consent: the parties this node released the objects to (the
    holders that may release them onward), and those that asked for it."""
    from kizuna.services import federation_messages, ledger

    if originator.id != node.home_party.id:
        return set()
    entries = (
        [e for oid in objects for e in ledger.show(node, oid)] if objects else ledger.show(node)
    )
    holders = {e.recipient for e in entries}
    return holders | federation_messages.requesters(node, set(objects))


def _store(node: Node, obj: dict[str, object], originator: Party) -> None:
    path = "import" if originator.id == node.home_party.id else "api"
    outcome = ingest.ingest(node, [obj], submitter=originator, path=path)[0]
    if outcome.error is not None:
        raise outcome.error


def revoke(node: Node, consent_id: str, private_key: bytes | None = None) -> Consent:
    """Publish a revoked version of a consent, signed like the original."""
    with node.db.read() as conn:
        row = store.latest(conn, [consent_id]).get(consent_id)
    if row is None or row.type != CONSENT_TYPE:
        raise NotFound(f"no consent {consent_id}")
    current = orjson.loads(row.content)
    originator = party_service.find(node, current["created_by_ref"])
    body = {k: v for k, v in current.items() if k != "signature"}
    now = node.now()
    body["modified"] = format_timestamp(max(now, row.modified + 1))
    body["revoked"] = True
    signed = core.sign_consent(body, _signer(node, originator, private_key))
    _store(node, signed, originator)
    return core.parse_consent(signed, originator.public_keys)


def list_consents(node: Node, originator: str | None = None) -> list[Consent]:
    """Every current consent (revoked ones included), optionally of one originator."""
    current = state.current(node).consents
    everyone = [c for cs in current.values() for c in cs]
    if originator is not None:
        who = party_service.find(node, originator).id
        everyone = [c for c in everyone if c.originator == who]
    return sorted(everyone, key=lambda c: (c.originator, c.id))
