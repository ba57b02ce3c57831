"""Suspend, resume, terminate: signed by the party that makes the change, applied on every node.

The operator's ``kizuna agreement suspend`` signs a notice with the node's key as its home party
(core.agreement_lifecycle) and applies it; sync fetches the notices a peer holds for our
agreements (beside the agreement documents) and applies each that counts. A notice that does
not count (unsigned, forged, by a party not in that version, for a version this node does not
hold) is refused with its reason and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from kizuna.core import agreement_lifecycle as core
from kizuna.core.agreement_lifecycle import InvalidNotice, Notice
from kizuna.core.agreements import Agreement
from kizuna.errors import Forbidden, InvalidInput, NotFound
from kizuna.services import agreement_intake as intake
from kizuna.services.node import Node
from kizuna.storage import parties as party_store
from kizuna.storage.schema import agreement_notices as notices_table
from kizuna.storage.schema import agreements as agreements_table

log = logging.getLogger("kizuna.agreements")

_ALLOWED = {
    "suspend": {"active"},
    "resume": {"suspended"},
    "terminate": {"draft", "active", "suspended"},
}


def held(conn: Connection, agreement_id: str, version: int) -> list[dict[str, Any]]:
    """The notice documents this node holds for one agreement version, oldest first."""
    rows = conn.execute(
        select(notices_table.c.document)
        .where(notices_table.c.agreement_id == agreement_id, notices_table.c.version == version)
        .order_by(notices_table.c.issued_us, notices_table.c.party)
    )
    return [orjson.loads(r[0]) for r in rows]


def notices_of(node: Node, agreement: Agreement) -> list[dict[str, Any]]:
    with node.db.read() as conn:
        return held(conn, agreement.id, agreement.version)


def transition(node: Node, agreement_id: str, action: str) -> Agreement:
    """The home party suspends, resumes or terminates the newest version: a signed notice."""
    if action not in _ALLOWED:
        raise NotFound(f"no action {action!r}; use suspend, resume or terminate")
    with node.db.read() as conn:
        versions = intake.load(conn, agreement_id).get(agreement_id, [])
    if not versions:
        raise NotFound(f"no agreement {agreement_id}; `kizuna agreement list` shows them")
    current = versions[-1].agreement
    if current.state not in _ALLOWED[action]:
        raise InvalidInput(f"cannot {action} {current.ref}: it is {current.state}")
    home = node.home_party.id
    if home not in current.party_ids:
        raise Forbidden(f"{node.home_party.name} is not a party to {current.ref}")
    with node.db.read() as conn:
        mine = [
            core.parse(d, current, {home: node.home_party.public_keys}).issued_us
            for d in held(conn, current.id, current.version)
            if d.get("party") == home
        ]
    # Each notice of a party is later than its last (a clock that stands still included).
    issued = max([node.now(), *(t + 1 for t in mine)])
    notice = core.make(current, action, home, node.private_key, issued)
    apply(node, notice)
    return _reload(node, current)


def apply(node: Node, document: Mapping[str, Any], *, source: str = "operator") -> bool:
    """Store a notice that counts and set the version's state from all it holds; False when it
    was held already. Raises InvalidInput naming what is wrong with one that does not count."""
    aid, version = document.get("agreement"), document.get("version")
    if not isinstance(aid, str) or not isinstance(version, int):
        raise InvalidInput("a lifecycle notice names its agreement and version")
    with node.db.read() as conn:
        if any(d == document for d in held(conn, aid, version)):
            return False  # the same notice again (a peer's copy): nothing to do
    with node.db.write() as conn:
        stored = intake.load(conn, aid).get(aid, [])
        match = [s for s in stored if s.agreement.version == version]
        if not match:
            raise InvalidInput(f"no agreement {aid} version {version} on this node")
        keys = {p.id: p.public_keys for p in party_store.all_parties(conn)}
        try:
            notice = core.parse(document, match[0].agreement, keys)
        except InvalidNotice as exc:
            raise InvalidInput(f"lifecycle notice refused: {exc}") from exc
        exists = conn.execute(
            select(notices_table.c.party).where(
                notices_table.c.agreement_id == aid,
                notices_table.c.version == version,
                notices_table.c.party == notice.party,
                notices_table.c.issued_us == notice.issued_us,
            )
        ).first()
        if exists is not None:
            return False
        conn.execute(
            insert(notices_table).values(
                agreement_id=aid,
                version=version,
                party=notice.party,
                issued_us=notice.issued_us,
                action=notice.action,
                document=orjson.dumps(dict(document)),
            )
        )
        parsed = [core.parse(d, match[0].agreement, keys) for d in held(conn, aid, version)]
        state = core.state(match[0].standing.accepted, parsed)
        conn.execute(
            update(agreements_table)
            .where(agreements_table.c.id == aid, agreements_table.c.version == version)
            .values(state=state, updated_us=node.now())
        )
        party_store.bump_generation(conn)
    log.info(
        "agreement %s v%s: %s by %s (%s); now %s",
        aid,
        version,
        notice.action,
        notice.party,
        source,
        state,
    )
    return True


def _reload(node: Node, agreement: Agreement) -> Agreement:
    with node.db.read() as conn:
        versions = intake.load(conn, agreement.id)[agreement.id]
    return next(s.agreement for s in versions if s.agreement.version == agreement.version)


__all__ = ["Notice", "apply", "held", "notices_of", "transition"]
