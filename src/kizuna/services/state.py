"""What the gate and ingest need to know: parties, agreements, consents.

Loaded once and kept until the ``generation`` counter in the node row moves, so every process of
a node sees a change made by any other (a CLI command while ``kizuna serve`` runs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, select

from kizuna.core import agreements as core_agreements
from kizuna.core.agreements import Agreement
from kizuna.core.consents import CONSENT_TYPE, Consent, InvalidConsent, parse_consent
from kizuna.core.parties import Party
from kizuna.core.taxii import Filters
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import parties as party_store
from kizuna.storage.schema import agreements as agreements_table

log = logging.getLogger("kizuna.state")


@dataclass(frozen=True)
class NodeState:
    """A snapshot of the node's parties, agreements and consents."""

    generation: int
    home: Party
    parties: dict[str, Party]
    agreements: tuple[Agreement, ...]
    consents: dict[str, tuple[Consent, ...]]

    @property
    def clients(self) -> frozenset[str]:
        return frozenset(p.id for p in self.parties.values() if p.is_client)


def current(node: Node) -> NodeState:
    """The node's state, reloaded only when the generation counter changed."""
    with node.db.read() as conn:
        generation = party_store.generation(conn)
        cached = node.cache.get("state")
        if isinstance(cached, NodeState) and cached.generation == generation:
            return cached
        everyone = party_store.all_parties(conn)
        parties = {p.id: p for p in everyone}
        state = NodeState(
            generation=generation,
            home=next(p for p in everyone if p.is_home),
            parties=parties,
            agreements=tuple(_agreements(conn)),
            consents=_consents(conn, parties),
        )
    node.cache["state"] = state
    return state


def _agreements(conn: Connection) -> list[Agreement]:
    """Per agreement, the version that governs: the newest fully signed one, else the newest.

    A new version awaiting signatures (an accession, say) leaves the signed one in force.
    """
    rows = conn.execute(
        select(
            agreements_table.c.id,
            agreements_table.c.version,
            agreements_table.c.document,
            agreements_table.c.state,
        ).order_by(agreements_table.c.id, agreements_table.c.version)
    ).all()
    governing: dict[str, Agreement] = {}
    for agreement_id, _version, document, st in rows:
        try:
            parsed = core_agreements.parse(orjson.loads(document), st)
        except core_agreements.InvalidAgreement as exc:  # stored ones were checked on the way in
            log.error("stored agreement %s no longer parses: %s", agreement_id, exc)
            continue
        held = governing.get(agreement_id)
        if held is None or parsed.fully_signed or not held.fully_signed:
            governing[agreement_id] = parsed
    return list(governing.values())


def _consents(conn: Connection, parties: dict[str, Party]) -> dict[str, tuple[Consent, ...]]:
    by_originator: dict[str, list[Consent]] = {}
    for row in store.scan(conn, Filters(types=(CONSENT_TYPE,)), None, 1_000_000):
        obj = orjson.loads(row.content)
        originator = parties.get(str(obj.get("created_by_ref")))
        if originator is None:
            continue
        try:
            consent = parse_consent(obj, originator.public_keys)
        except InvalidConsent as exc:
            log.warning("ignoring consent %s: %s", obj.get("id"), exc)
            continue
        by_originator.setdefault(consent.originator, []).append(consent)
    return {k: tuple(v) for k, v in by_originator.items()}
