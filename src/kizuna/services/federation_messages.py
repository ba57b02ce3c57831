"""Consent requests between nodes: a holder asks, the originator's node lists what it was asked.

Requests are STIX objects (``x-kizuna-consent-request``) addressed to the originator, so they
reach its node through sync like everything else; its grant travels back as a consent.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson

from kizuna.core import protocol
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import Filters
from kizuna.errors import InvalidInput, NotFound
from kizuna.services import ingest
from kizuna.services import parties as party_service
from kizuna.services.node import Node
from kizuna.storage import objects as store


def request_consent(
    node: Node, object_ids: list[str], recipient: str, reason: str = ""
) -> dict[str, Any]:
    """Ask the originator of these objects for consent to release them to ``recipient``."""
    to = party_service.find(node, recipient)
    with node.db.read() as conn:
        held = store.latest(conn, object_ids)
    missing = sorted(set(object_ids) - held.keys())
    if missing:
        raise NotFound(f"this node holds no object {missing[0]}")
    by_originator: dict[str, list[str]] = defaultdict(list)
    for oid, v in held.items():
        by_originator[v.source].append(oid)
    if node.home_party.id in by_originator:
        raise InvalidInput("this node's home party originated some of these: it needs no consent")
    if len(by_originator) != 1:
        raise InvalidInput("ask one originator at a time: these objects come from several")
    [(originator, ids)] = by_originator.items()
    request = protocol.consent_request(
        node.new_id(protocol.REQUEST_TYPE),
        node.home_party.id,
        originator,
        ids,
        to.id,
        format_timestamp(node.now()),
        reason,
    )
    outcome = ingest.ingest(node, [request], submitter=node.home_party, path="registry")[0]
    if outcome.error is not None:
        raise outcome.error
    return request


def consent_requests(node: Node) -> list[dict[str, Any]]:
    """Every consent request this node holds: received from holders, and sent by us."""
    with node.db.read() as conn:
        rows = store.scan(conn, Filters(types=(protocol.REQUEST_TYPE,)), None, 10**9)
    return [orjson.loads(r.content) for r in rows]


def requesters(node: Node, object_ids: set[str]) -> set[str]:
    """The holders that asked for consent on any of these objects."""
    out = set()
    for r in consent_requests(node):
        if object_ids & set(r.get("object_refs", ())):
            out.add(str(r["created_by_ref"]))
    return out
