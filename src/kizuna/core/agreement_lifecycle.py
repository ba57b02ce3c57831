"""Lifecycle notices: a party's signed word that it suspends, resumes or terminates an agreement.

A suspension made on one node must hold on every party's node, so it travels like the agreement
does: as a document signed by the party that makes it (Ed25519 over the RFC 8785 form of the
notice without its signature). Every node applies the notices it holds for a version:

- a notice counts only when its party is a party of that version and its signature verifies
  with a key the node trusts for that party; anything else is refused, naming what is wrong;
- ``terminate`` by any party is final;
- a party's suspension stands until that same party resumes: per party, its newest notice
  (by ``issued``) says whether it suspends. So nobody lifts another's suspension, and a notice
  replayed later than a newer one of the same party changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kizuna.core import signing
from kizuna.core.agreements import Agreement
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp

NOTICE_TYPE = "kizuna-agreement-notice"
ACTIONS = ("suspend", "resume", "terminate")
_FIELDS = {"type", "agreement", "version", "action", "party", "issued", "key_id", "signature"}


class InvalidNotice(ValueError):
    """A lifecycle notice that does not count; the message says why."""


@dataclass(frozen=True)
class Notice:
    agreement: str
    version: int
    action: str
    party: str
    issued_us: int
    document: Mapping[str, Any]


def payload(document: Mapping[str, Any]) -> bytes:
    return signing.canonical({k: v for k, v in document.items() if k != "signature"})


def make(
    agreement: Agreement, action: str, party_id: str, private_key: bytes, issued_us: int
) -> dict[str, Any]:
    """A notice by ``party_id`` that it takes ``action`` on this agreement version, signed."""
    if action not in ACTIONS:
        raise InvalidNotice(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    public = signing.public_key_of(private_key)
    body: dict[str, Any] = {
        "type": NOTICE_TYPE,
        "agreement": agreement.id,
        "version": agreement.version,
        "action": action,
        "party": party_id,
        "issued": format_timestamp(issued_us),
        "key_id": signing.key_id(public),
    }
    return {**body, "signature": signing.sign(private_key, payload(body))}


def parse(
    document: Mapping[str, Any], agreement: Agreement, keys: Mapping[str, Sequence[str]]
) -> Notice:
    """The notice, if it counts for this agreement version with the keys the node trusts."""
    if not isinstance(document, Mapping):
        raise InvalidNotice("a lifecycle notice must be a JSON object")
    extra = sorted(set(document) - _FIELDS)
    missing = sorted(_FIELDS - set(document))
    if missing:
        raise InvalidNotice(f"the lifecycle notice lacks {', '.join(missing)} (unsigned?)")
    if extra:
        raise InvalidNotice(f"the lifecycle notice has unknown fields: {', '.join(extra)}")
    if document["type"] != NOTICE_TYPE:
        raise InvalidNotice(f"type must be {NOTICE_TYPE}")
    if document["action"] not in ACTIONS:
        raise InvalidNotice(f"action must be one of {', '.join(ACTIONS)}")
    if document["agreement"] != agreement.id or document["version"] != agreement.version:
        raise InvalidNotice(f"the notice is not for {agreement.ref}")
    party = document["party"]
    if not isinstance(party, str) or party not in agreement.party_ids:
        raise InvalidNotice(f"{party!r} is not a party to {agreement.ref}")
    try:
        issued = parse_timestamp(str(document["issued"]))
    except ValueError as exc:
        raise InvalidNotice(f"issued: {exc}") from exc
    signed = payload(document)
    signature = document["signature"]
    trusted = [k for k in keys.get(party, ()) if signing.key_id(k) == document["key_id"]]
    if not isinstance(signature, str) or not any(
        signing.verify(k, signed, signature) for k in trusted
    ):
        raise InvalidNotice(
            f"the notice's signature does not verify with a key this node trusts for {party}"
        )
    return Notice(agreement.id, agreement.version, str(document["action"]), party, issued, document)


def state(accepted: bool, notices: Iterable[Notice]) -> str:
    """A version's lifecycle state from whether every party signed it and the notices held."""
    newest: dict[str, Notice] = {}
    terminated = False
    for n in notices:
        terminated = terminated or n.action == "terminate"
        held = newest.get(n.party)
        if held is None or (n.issued_us, n.action) > (held.issued_us, held.action):
            newest[n.party] = n
    if terminated:
        return "terminated"
    if not accepted:
        return "draft"
    if any(n.action == "suspend" for n in newest.values()):
        return "suspended"
    return "active"
