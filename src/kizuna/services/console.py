"""What the console shows a person, gathered through the gate.

Every listing of objects is the viewer's party's own view, judged by the same gate as its TAXII
reads (``taxii.page``): a partner's analyst sees exactly what the partner's TAXII collection
holds, never more. Content is built as the gate builds it for the party (derivatives included)
and what a page finally shows is released to that party (sealed copies aside), so it is written
to the ledger like a TAXII read; the home party's own view is never recorded (nothing leaves).
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from kizuna.core import taxii as core_taxii
from kizuna.core.handling import Handling
from kizuna.core.parties import Party
from kizuna.core.protocol import PROTOCOL_TYPES
from kizuna.core.seals import SEAL_TYPE
from kizuna.core.taxii import Filters, Query
from kizuna.services import consents, explain, federation_messages, gate, state, taxii, users
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.schema import objects as objects_table

# Types a person does not browse: seals travel with objects, protocol messages have pages.
_HIDDEN = frozenset({SEAL_TYPE, *PROTOCOL_TYPES, "marking-definition", "extension-definition"})
SCAN_PAGE = 500
SCAN_CAP = 20_000  # object versions one search request judges at most before it stops


@dataclass(frozen=True)
class Item:
    """One object as the viewer's party receives it."""

    id: str
    type: str
    name: str
    modified_us: int
    date_added: int
    source: str
    content: dict[str, Any]

    @property
    def labels(self) -> list[str]:
        return [str(x) for x in self.content.get("labels", ()) if isinstance(x, str)]


@dataclass(frozen=True)
class Criteria:
    """A search: every field optional."""

    text: str = ""
    type: str = ""
    label: str = ""
    marking: str = ""
    originator: str = ""
    since_us: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.text or self.type or self.label or self.marking or self.originator) and (
            self.since_us is None
        )


@dataclass(frozen=True)
class Results:
    items: list[Item]
    scanned: int
    next: str | None  # where the next search page starts (an opaque cursor)
    capped: bool  # stopped at SCAN_CAP before finding a full page


def _name(obj: dict[str, Any]) -> str:
    for key in ("name", "value", "pattern", "description"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value[:160]
    return str(obj.get("id", ""))


def _item(r: gate.Release) -> Item:
    obj = orjson.loads(r.content)
    return Item(
        r.id,
        r.version.type,
        _name(obj),
        r.version.modified,
        r.version.date_added,
        r.version.source,
        obj,
    )


def _matches(r: gate.Release, c: Criteria, needle: bytes) -> bool:
    if needle and needle not in r.content.lower():
        return False
    obj: dict[str, Any] | None = None
    if c.label:
        obj = orjson.loads(r.content)
        if c.label.lower() not in [str(x).lower() for x in obj.get("labels", ())]:
            return False
    if c.marking:
        want = c.marking.lower().removeprefix("tlp:")
        h = Handling.from_json(r.version.handling)
        names = {(h.tlp or "").lower()}
        if h.classification is not None:
            names.add(h.classification.level.lower())
        obj = obj or orjson.loads(r.content)
        names.update(str(m).lower() for m in obj.get("object_marking_refs", ()))
        if want not in names:
            return False
    return True


def search(
    node: Node, viewer: Party, c: Criteria, *, limit: int = 50, cursor: str | None = None
) -> Results:
    """Objects of the viewer's view matching every criterion, newest-added first in pages.

    Type, originator and date narrow the scan in the database; value, label and marking are
    matched on the bytes the viewer's party would receive (so a search never finds a value a
    redaction took out)."""
    types = (c.type,) if c.type else ()
    sources = (c.originator,) if c.originator else ()
    filters = Filters(types=types, spec_versions=("2.1",), sources=sources)
    position = core_taxii.decode_cursor(cursor) if cursor else None
    if c.since_us is not None and (position is None or position < c.since_us):
        position = c.since_us
    needle = c.text.lower().encode()
    found: list[gate.Release] = []
    scanned = 0
    next_cursor: str | None = None
    capped = False
    while True:
        query = Query(filters, None, SCAN_PAGE, position)
        page = taxii.page(node, viewer, filters, query, content=False)
        decided = [(r.version, r.decision) for r in page.releases]
        built = gate.preview(node, viewer, decided).released
        full = False
        for n, r in enumerate(built):
            scanned += 1
            position = r.version.date_added
            if r.version.type in _HIDDEN or not _matches(r, c, needle):
                continue
            found.append(r)
            if len(found) == limit:
                full = True
                if page.more or n < len(built) - 1:
                    next_cursor = core_taxii.encode_cursor(position)
                break
        if full or not page.more:
            break
        if page.next is not None:
            position = core_taxii.decode_cursor(page.next)
        if scanned >= SCAN_CAP and position is not None:
            capped = True
            next_cursor = core_taxii.encode_cursor(position)
            break
    _release(node, viewer, found)
    return Results([_item(r) for r in found], scanned, next_cursor, capped)


def _release(node: Node, viewer: Party, shown: list[gate.Release]) -> None:
    """What a page shows a partner's person is a release to the partner: on the ledger."""
    if shown and viewer.id != node.home_party.id:
        versions = [r.version for r in shown]
        gate.release(
            node, viewer, versions, decided=[(r.version, r.decision) for r in shown], sealed=False
        )


@dataclass(frozen=True)
class ObjectView:
    versions: list[Item]  # oldest first, as the viewer's party receives each
    diffs: list[str]  # unified diff of each version against the one before
    local: explain.LocalView | None  # home viewers: handling in the home scheme


def object_view(node: Node, viewer: Party, object_id: str) -> ObjectView | None:
    """Every version of one object the viewer's party may receive; None when none."""
    filters = taxii.object_filters(node, viewer, object_id, Filters(versions=("all",)))
    page = taxii.page(node, viewer, filters, Query(filters, None, 1000, None), content=False)
    decided = [(r.version, r.decision) for r in page.releases]
    built = [
        r
        for r in gate.preview(node, viewer, decided).released
        if r.id == object_id or r.version.id == object_id
    ]
    if not built:
        return None
    _release(node, viewer, built)
    items = [_item(r) for r in built]
    texts = [
        orjson.dumps(i.content, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        for i in items
    ]
    diffs = [""] + [
        "\n".join(
            difflib.unified_diff(
                a.splitlines(), b.splitlines(), "before", "after", lineterm="", n=2
            )
        )
        for a, b in itertools.pairwise(texts)
    ]
    local = explain.local_view(node, items[-1].id) if viewer.id == node.home_party.id else None
    return ObjectView(items, diffs, local)


@dataclass(frozen=True)
class PartnerRow:
    party: Party
    outcome: str
    agreement: str | None
    reasons: list[str]


def who_may_receive(node: Node, object_id: str) -> list[PartnerRow]:
    """Explain for every partner, one row each (the newest version)."""
    rows = []
    for p in sorted(state.current(node).parties.values(), key=lambda p: p.name):
        if p.id == node.home_party.id:
            continue
        decided = explain.explain(node, object_id, p)[-1]
        reasons = [f"{v.code}: {v.sentence}" for v in decided.verdicts if v.passed is False]
        rows.append(PartnerRow(p, decided.decision.outcome, decided.decision.agreement, reasons))
    return rows


@dataclass(frozen=True)
class PreviewRow:
    id: str
    type: str
    name: str
    released: bool
    reasons: list[str]


def partner_preview(node: Node, partner: Party, limit: int = 500) -> tuple[list[PreviewRow], int]:
    """What ``partner`` would get, with the reason for each withheld object (not a release)."""
    rows: list[PreviewRow] = []
    total = 0
    for e in explain.preview(node, partner, include_withheld=True):
        if e.version.type in _HIDDEN:
            continue
        total += 1
        if len(rows) < limit:
            obj = orjson.loads(e.version.content)
            reasons = [f"{v.code}: {v.sentence}" for v in e.verdicts if v.passed is False]
            rows.append(
                PreviewRow(e.version.id, e.version.type, _name(obj), e.decision.released, reasons)
            )
    return rows, total


@dataclass(frozen=True)
class Home:
    arrived: list[Item]
    requests: list[dict[str, Any]]
    quarantined: list[tuple[str, str, str]]  # id, type, why
    sightings: list[Item]


def home(node: Node, viewer: Party, since_us: int | None) -> Home:
    """The home page: what arrived since the last visit, consent requests to answer,
    quarantined objects and sightings of the viewer's party's indicators."""
    arrived = search(node, viewer, Criteria(since_us=since_us), limit=20).items
    is_home = viewer.id == node.home_party.id
    requests = open_requests(node) if is_home else []
    quarantined: list[tuple[str, str, str]] = []
    if is_home:
        with node.db.read() as conn:
            rows = conn.execute(
                select(objects_table.c.id, objects_table.c.type, objects_table.c.handling)
                .where(objects_table.c.is_latest, objects_table.c.handling.like('%"quarantine"%'))
                .limit(50)
            ).all()
        for oid, otype, raw in rows:
            why = Handling.from_json(raw).quarantine
            if why:
                quarantined.append((oid, otype, why))
    mine: set[str] = set()
    sightings = search(node, viewer, Criteria(type="sighting"), limit=200).items
    with node.db.read() as conn:
        refs = {str(s.content.get("sighting_of_ref", "")) for s in sightings}
        held = store.latest(conn, [r for r in refs if r])
    mine = {i for i, v in held.items() if v.source == viewer.id}
    return Home(
        arrived,
        requests,
        quarantined,
        [s for s in sightings if s.content.get("sighting_of_ref") in mine][:20],
    )


def open_requests(node: Node) -> list[dict[str, Any]]:
    """Consent requests to the home party that no consent of its answers and none refused."""
    home_id = node.home_party.id
    answered: set[tuple[str, str]] = set()
    for c in consents.list_consents(node, home_id):
        for o in c.objects:
            for p in c.parties:
                answered.add((o, p))
    refused = refusals(node)
    out = []
    for r in federation_messages.consent_requests(node):
        if r.get("originator_ref") != home_id or r["id"] in refused:
            continue
        recipient = str(r.get("recipient_ref"))
        if all((str(o), recipient) in answered for o in r.get("object_refs", ())):
            continue
        out.append(r)
    return out


REFUSE = "consent refuse "


def refusals(node: Node) -> set[str]:
    """Consent requests refused in the console (the record of who did what keeps them)."""
    return {
        a.action.removeprefix(REFUSE).split(" ", 1)[0]
        for a in users.actions(node, 10_000)
        if a.action.startswith(REFUSE)
    }
