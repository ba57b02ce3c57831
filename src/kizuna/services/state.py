"""What the gate and ingest need to know: parties, agreements, consents.

Loaded once and kept until the ``generation`` counter in the node row moves, so every process of
a node sees a change made by any other (a CLI command while ``kizuna serve`` runs, another
worker, another host on the same PostgreSQL database) at its next request. Tokens and the
gate's remembered decisions follow the same counter. The ``caches`` counter does the same for
what else a process remembers: settings, marking definitions, seals (``FORGOTTEN``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection

from kizuna.core import agreement_versions as core_agreement_versions
from kizuna.core.agreements import Agreement
from kizuna.core.consents import CONSENT_TYPE, Consent, InvalidConsent, parse_consent
from kizuna.core.parties import Party
from kizuna.core.taxii import Filters
from kizuna.services import agreement_intake
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import parties as party_store

log = logging.getLogger("kizuna.state")

# What a process remembers besides the state, dropped when the ``caches`` counter moves.
FORGOTTEN = ("seal_bytes", "markings")


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
        generation, caches = party_store.counters(conn)
        if node.cache.get("caches") != caches:
            for name in FORGOTTEN:
                node.cache.pop(name, None)
            node.forget_settings()
            node.cache["caches"] = caches
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
    """Per agreement, the version that governs: the newest one signed by every party of the
    version it replaces and of its own, with keys the node trusts (agreement_versions.py).

    A new version awaiting signatures (an accession, say) leaves the accepted one in force.
    """
    out = []
    for versions in agreement_intake.load(conn).values():
        governing = core_agreement_versions.governing([s.standing for s in versions])
        if governing is not None:
            out.append(governing)
    return out


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
