"""Agreements: signed, versioned security-of-information arrangements between parties.

An agreement document is JSON (or YAML) following ``data/agreement.schema.json``. Each party signs
the RFC 8785 canonical form of the document without its ``signatures``. An agreement is active
only when every party has signed, ``now`` is inside its validity, and it is neither suspended nor
terminated (DESIGN.md rule 9).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.core import signing
from kizuna.core.cvd.disclosure import DisclosurePolicy, InvalidDisclosurePolicy
from kizuna.core.cvd.disclosure import parse as parse_disclosure
from kizuna.core.handling import TLP_ORDER, TLP_RANK, Classification
from kizuna.core.parties import check_jurisdiction, check_kind, check_scheme
from kizuna.core.party_names import InvalidPartyName, normalise
from kizuna.core.stix.timestamps import parse_timestamp

ONWARD_CLAUSES: tuple[str, ...] = ("originator-consent", "agreement-members")
STATES: tuple[str, ...] = ("draft", "active", "suspended", "terminated")
AGREEMENT_ID = _ID = re.compile(
    r"^agreement--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_IDENTITY = re.compile(r"^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class InvalidAgreement(ValueError):
    """An agreement document that breaks the schema or its own rules."""


@dataclass(frozen=True)
class AgreementParty:
    """A party as the agreement names it, with the public key it signs with."""

    id: str
    name: str
    jurisdiction: str
    kind: str
    scheme: str | None
    public_key: str


@dataclass(frozen=True)
class EquivalenceRow:
    """One row of the equivalence table: a rank and one level per scheme (rows may be partial)."""

    rank: int
    levels: tuple[tuple[str, str], ...]

    def level(self, scheme: str) -> str | None:
        for s, level in self.levels:
            if s == scheme:
                return level
        return None


@dataclass(frozen=True)
class RedactionProfile:
    """What to take out of an object before it reaches the recipients the profile applies to."""

    name: str
    jurisdictions: frozenset[str]
    kinds: frozenset[str]
    parties: frozenset[str]
    drop_types: frozenset[str]
    remove_properties: tuple[tuple[str, tuple[str, ...]], ...]

    def applies_to(self, party_id: str, jurisdiction: str, kind: str) -> bool:
        return party_id in self.parties or jurisdiction in self.jurisdictions or kind in self.kinds

    def properties_for(self, stix_type: str) -> tuple[str, ...]:
        out: list[str] = []
        for t, props in self.remove_properties:
            if t in ("*", stix_type):
                out.extend(props)
        return tuple(out)


@dataclass(frozen=True)
class Signature:
    party: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class Agreement:
    """A parsed agreement document plus its local lifecycle state."""

    id: str
    version: int
    title: str
    purpose: str
    parties: tuple[AgreementParty, ...]
    valid_from_us: int
    valid_until_us: int | None
    equivalences: tuple[EquivalenceRow, ...]
    max_rank: int
    classification_note: str
    tlp_allowed: frozenset[str]
    onward_release: str
    redaction_profiles: tuple[RedactionProfile, ...]
    receipts_owed: bool
    signatures: tuple[Signature, ...]
    signed_by: frozenset[str]
    document: Mapping[str, Any]
    state: str = "draft"
    # The optional disclosure policy (coordinated vulnerability disclosure, docs/cvd.md).
    disclosure: DisclosurePolicy | None = None
    # Parties whose signature this version needs besides its own: those of the version it
    # replaces (core/agreement_versions.py); set when the node judges it, empty on parse.
    required_signers: frozenset[str] = frozenset()

    @property
    def ref(self) -> str:
        """``id@version``, as decisions and the ledger name it."""
        return f"{self.id}@{self.version}"

    @property
    def party_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.parties)

    @property
    def signers_needed(self) -> frozenset[str]:
        """Every party whose signature makes this version active."""
        return self.party_ids | self.required_signers

    @property
    def fully_signed(self) -> bool:
        return self.signers_needed <= self.signed_by

    def includes(self, party_id: str) -> bool:
        return any(p.id == party_id for p in self.parties)

    def party(self, party_id: str) -> AgreementParty | None:
        return next((p for p in self.parties if p.id == party_id), None)

    def inactive_reason(self, now_us: int) -> str | None:
        """Why the agreement does not count now (rule 9), or None when it is active."""
        if self.state in ("suspended", "terminated"):
            return f"agreement {self.ref} is {self.state}"
        missing = sorted(self.signers_needed - self.signed_by)
        if missing:
            return f"agreement {self.ref} is not signed yet by {', '.join(missing)}"
        if now_us < self.valid_from_us:
            return f"agreement {self.ref} is not in force before its valid_from"
        if self.valid_until_us is not None and now_us >= self.valid_until_us:
            return f"agreement {self.ref} expired at its valid_until"
        return None

    def allows_tlp(self, tlp: str) -> bool:
        """An agreement that allows a TLP label allows every less restrictive one too."""
        return any(TLP_RANK[tlp] <= TLP_RANK[t] for t in self.tlp_allowed)

    def rank_of(self, classification: Classification) -> int | None:
        """The rank of a level in this agreement's table, or None when it has no row."""
        for row in self.equivalences:
            if row.level(classification.scheme) == classification.level:
                return row.rank
        return None

    def equivalent(self, classification: Classification, scheme: str) -> str | None:
        """The level in ``scheme`` that the same row gives, or None (partial row, no row)."""
        for row in self.equivalences:
            if row.level(classification.scheme) == classification.level:
                return row.level(scheme)
        return None


def signing_payload(document: Mapping[str, Any]) -> bytes:
    """The bytes each party signs: RFC 8785 canonical form without ``signatures``."""
    return signing.canonical({k: v for k, v in document.items() if k != "signatures"})


def sign_document(
    document: Mapping[str, Any], party_id: str, private_key: bytes, *, leaving: bool = False
) -> dict[str, Any]:
    """A copy of ``document`` with ``party_id``'s signature added (replacing an older one).

    ``leaving``: the party is not listed, but was a party of the version this one replaces,
    whose every party must sign it.
    """
    public_key = signing.public_key_of(private_key)
    listed = [p for p in document.get("parties", ()) if p.get("id") == party_id]
    if not listed and not leaving:
        raise InvalidAgreement(f"{party_id} is not a party to this agreement")
    if listed and listed[0].get("public_key") != public_key:
        raise InvalidAgreement(
            f"the key given does not match the public key the agreement lists for {party_id}"
        )
    signature = signing.sign(private_key, signing_payload(document))
    entry = {"party": party_id, "key_id": signing.key_id(public_key), "signature": signature}
    others = [s for s in document.get("signatures", ()) if s.get("party") != party_id]
    return {**document, "signatures": [*others, entry]}


def parse(document: Mapping[str, Any], state: str = "draft") -> Agreement:
    """Check an agreement document and return it parsed; InvalidAgreement says what is wrong."""
    try:
        return _parse(document, state)
    except InvalidAgreement:
        raise
    except KeyError as exc:
        raise InvalidAgreement(
            f"agreement document is malformed: it lacks the required field {exc}"
        ) from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidAgreement(f"agreement document is malformed: {exc}") from exc


def _parse(doc: Mapping[str, Any], state: str) -> Agreement:
    if not isinstance(doc, Mapping):
        raise InvalidAgreement("an agreement must be a JSON object")
    if doc.get("type") != "kizuna-agreement":
        raise InvalidAgreement('an agreement must have "type": "kizuna-agreement"')
    agreement_id = str(doc["id"])
    if not _ID.match(agreement_id):
        raise InvalidAgreement(f"id {agreement_id!r} is not agreement--<uuid>")
    version = doc["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidAgreement("version must be a positive integer")
    parties = tuple(_party(p) for p in doc["parties"])
    ids = [p.id for p in parties]
    if len(parties) < 2 or len(set(ids)) != len(ids):
        raise InvalidAgreement("an agreement names two or more distinct parties")
    valid_from = parse_timestamp(doc["valid_from"])
    until = doc.get("valid_until")
    valid_until = parse_timestamp(until) if until is not None else None
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidAgreement("valid_until must be after valid_from")
    cls = doc.get("classification") or {}
    rows = tuple(_row(r) for r in cls.get("equivalences", ()))
    max_rank = int(cls.get("max_rank", 0))
    tlp_allowed = frozenset(str(t).lower() for t in doc.get("tlp_allowed", TLP_ORDER))
    unknown = tlp_allowed - set(TLP_ORDER)
    if unknown:
        raise InvalidAgreement(f"tlp_allowed names unknown labels: {', '.join(sorted(unknown))}")
    onward = doc.get("onward_release", "originator-consent")
    if onward not in ONWARD_CLAUSES:
        raise InvalidAgreement(f"onward_release must be one of {', '.join(ONWARD_CLAUSES)}")
    if state not in STATES:
        raise InvalidAgreement(f"state must be one of {', '.join(STATES)}")
    signatures = tuple(
        Signature(str(s["party"]), str(s["key_id"]), str(s["signature"]))
        for s in doc.get("signatures", ())
    )
    if len({s.party for s in signatures}) != len(signatures):
        raise InvalidAgreement("an agreement carries one signature per party")
    payload = signing_payload(doc)
    keys = {p.id: p.public_key for p in parties}
    # A party of the version this one replaces may sign it without being listed (it leaves):
    # its signature is checked against the key the node trusts for it (agreement_versions).
    listed = [s for s in signatures if s.party in keys]
    signed_by = frozenset(
        s.party for s in listed if signing.verify(keys[s.party], payload, s.signature)
    )
    bad = sorted({s.party for s in listed} - signed_by)
    if bad:
        raise InvalidAgreement(f"signature of {', '.join(bad)} does not verify")
    try:
        disclosure = (
            parse_disclosure(doc["disclosure"], frozenset(ids)) if "disclosure" in doc else None
        )
    except InvalidDisclosurePolicy as exc:
        raise InvalidAgreement(str(exc)) from exc
    return Agreement(
        id=agreement_id,
        version=version,
        title=str(doc["title"]),
        purpose=str(doc.get("purpose", "")),
        parties=parties,
        valid_from_us=valid_from,
        valid_until_us=valid_until,
        equivalences=rows,
        max_rank=max_rank,
        classification_note=str(cls.get("note", "")),
        tlp_allowed=tlp_allowed,
        onward_release=onward,
        redaction_profiles=tuple(_profile(p) for p in doc.get("redaction_profiles", ())),
        receipts_owed=bool(doc.get("receipts_owed", False)),
        signatures=signatures,
        signed_by=signed_by,
        document=doc,
        state=state,
        disclosure=disclosure,
    )


def _party(p: Mapping[str, Any]) -> AgreementParty:
    party_id = str(p["id"])
    if not _IDENTITY.match(party_id):
        raise InvalidAgreement(f"party id {party_id!r} is not identity--<uuid>")
    key = str(p["public_key"])
    if len(signing.unb64(key)) != 32:
        raise InvalidAgreement(f"public_key of {party_id} is not a raw Ed25519 key")
    scheme = p.get("scheme")
    try:
        name = normalise(str(p["name"]))
    except InvalidPartyName as exc:
        raise InvalidAgreement(f"party {party_id}: {exc}") from exc
    return AgreementParty(
        id=party_id,
        name=name,
        jurisdiction=check_jurisdiction(str(p["jurisdiction"])),
        kind=check_kind(str(p["kind"])),
        scheme=check_scheme(str(scheme)) if scheme else None,
        public_key=key,
    )


def _row(r: Mapping[str, Any]) -> EquivalenceRow:
    rank = r["rank"]
    if not isinstance(rank, int) or isinstance(rank, bool):
        raise InvalidAgreement("an equivalence row's rank must be an integer")
    levels = r["levels"]
    if not isinstance(levels, Mapping) or not levels:
        raise InvalidAgreement("an equivalence row needs levels: {scheme: level, ...}")
    return EquivalenceRow(rank, tuple(sorted((str(k), str(v)) for k, v in levels.items())))


def _profile(p: Mapping[str, Any]) -> RedactionProfile:
    applies = p.get("applies_to") or {}
    remove = p.get("remove_properties") or {}
    if not isinstance(remove, Mapping):
        raise InvalidAgreement("remove_properties maps a STIX type (or *) to property names")
    return RedactionProfile(
        name=str(p["name"]),
        jurisdictions=frozenset(str(j).upper() for j in applies.get("jurisdictions", ())),
        kinds=frozenset(str(k) for k in applies.get("kinds", ())),
        parties=frozenset(str(x) for x in applies.get("parties", ())),
        drop_types=frozenset(str(t) for t in p.get("drop_types", ())),
        remove_properties=tuple(
            sorted((str(t), tuple(str(x) for x in props)) for t, props in remove.items())
        ),
    )
