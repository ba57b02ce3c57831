"""A node whose partners' views change in every way the gate knows, and the oracle of a view.

CERT-EU's node, with BSI (an agreement valid for one day around the start) and NISC (an
agreement that only starts two hours in), handling markings with embargoes, a classification and
a release rule, and a clock that moves only when told to. ``expected_pages`` is the unindexed
path, written out: every version after a position judged by the gate, cut into pages.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kizuna.core import agreements as core_agreements
from kizuna.core.handling import Classification
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.parties import Party
from kizuna.core.seals import SEAL_TYPE
from kizuna.core.signing import public_key_of
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import Filters, Query, decode_cursor
from kizuna.services import agreements, gate, ingest, parties, taxii
from kizuna.services.node import Node, init_node, new_private_key
from kizuna.storage import objects as store
from support import START, SeqIds

HOUR = 3600 * 1_000_000
LEVELS = {"EU": "CONFIDENTIEL UE", "DE": "VS-VERTRAULICH", "JP": "秘"}
FILTERS = Filters(spec_versions=("2.1",))


class StillClock:
    """A clock that stands still until moved: the oracle and the page see the same moment."""

    def __init__(self, start: int = START) -> None:
        self.us = start

    def __call__(self) -> int:
        return self.us

    def advance(self, us: int) -> None:
        self.us += us


@dataclass
class World:
    node: Node
    clock: StillClock
    bsi: Party
    nisc: Party
    keys: dict[str, bytes]
    agreements: dict[str, str]  # title -> agreement id
    markings: dict[str, list[str]]  # name -> object_marking_refs
    serial: itertools.count[int] = field(default_factory=itertools.count)

    def stamp(self) -> str:
        return format_timestamp(self.clock.us)

    def indicator(
        self, marking: str, *, by: Party | None = None, oid: str | None = None
    ) -> dict[str, Any]:
        n = next(self.serial)
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": oid or f"indicator--{n:08x}-0000-4000-8000-{self.clock.us % 10**12:012d}",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": self.stamp(),
            "pattern": f"[ipv4-addr:value = '10.0.{n >> 8 & 255}.{n & 255}']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": self.markings[marking],
        }
        if by is not None:
            obj["created_by_ref"] = by.id
        if not obj["object_marking_refs"]:
            del obj["object_marking_refs"]  # no TLP: the node's default applies
        return obj

    def store(self, objects: list[dict[str, Any]], submitter: Party | None = None) -> None:
        who = submitter or self.node.home_party
        path = "import" if who.id == self.node.home_party.id else "taxii"
        outcomes = ingest.ingest(self.node, objects, submitter=who, path=path)
        assert all(o.ok for o in outcomes), [str(o.error) for o in outcomes if not o.ok]

    def agree(self, member: str, since: int, until: int | None, title: str = "") -> str:
        """An active agreement of CERT-EU and ``member`` in force from ``since`` to ``until``."""
        template: dict[str, Any] = {
            "title": title or f"{member}-{next(self.serial)}",
            "parties": ["CERT-EU", member],
            "valid_from": format_timestamp(since),
            "classification": {
                "max_rank": 2,
                "equivalences": [{"rank": 2, "levels": LEVELS}],
            },
        }
        if until is not None:
            template["valid_until"] = format_timestamp(until)
        draft = agreements.from_template(self.node, template)
        for signer in ("CERT-EU", member):
            party = parties.find(self.node, signer)
            draft = core_agreements.sign_document(draft, party.id, self.keys[signer])
        agreement_id = agreements.add(self.node, draft).id
        self.agreements[template["title"]] = agreement_id
        return agreement_id

    def embargo(self, lasts: int, participants: list[Party]) -> str:
        """A new GREEN marking under embargo for ``lasts`` µs from now; returns its name."""
        n = next(self.serial)
        marking = handling_marking(
            f"marking-definition--00000000-0000-4000-8000-{n:012d}",
            "2026-01-01T00:00:00.000Z",
            self.node.home_party.id,
            embargo_until=format_timestamp(self.clock.us + lasts),
            embargo_participants=[p.id for p in participants],
        )
        self.store([marking])
        name = f"embargo-{n}"
        self.markings[name] = [TLP_MARKING_ID["green"], marking["id"]]
        return name

    def mark(self) -> int:
        """The position after everything stored so far."""
        with self.node.db.read() as conn:
            return store.last_date_added(conn)


def build(home: Path, database_url: str | None) -> World:
    clock = StillClock()
    node = init_node(
        home,
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        database_url=database_url,
        clock=clock,
        new_id=SeqIds("view"),
    )
    keys = {"CERT-EU": node.private_key}
    made = {}
    for name, jurisdiction, scheme in (("BSI", "DE", "DE"), ("NISC", "JP", "JP")):
        keys[name] = new_private_key()
        made[name] = parties.add_party(
            node,
            name,
            jurisdiction=jurisdiction,
            kind="government",
            scheme=scheme,
            public_keys=(public_key_of(keys[name]),),
        )
    world = World(node, clock, made["BSI"], made["NISC"], keys, {}, {})
    world.agree("BSI", clock.us - 24 * HOUR, clock.us + 24 * HOUR, "eu-de")
    world.agree("NISC", clock.us + 2 * HOUR, None, "eu-jp")
    home_id = node.home_party.id
    defined = {
        "embargo": handling_marking(
            "marking-definition--00000000-0000-4000-8000-00000000e001",
            "2026-01-01T00:00:00.000Z",
            home_id,
            embargo_until=format_timestamp(clock.us + HOUR),
        ),
        "embargo-bsi": handling_marking(
            "marking-definition--00000000-0000-4000-8000-00000000e002",
            "2026-01-01T00:00:00.000Z",
            home_id,
            embargo_until=format_timestamp(clock.us + 3 * HOUR),
            embargo_participants=[world.bsi.id],
        ),
        "classified": handling_marking(
            "marking-definition--00000000-0000-4000-8000-00000000e003",
            "2026-01-01T00:00:00.000Z",
            home_id,
            classification=Classification("EU", "CONFIDENTIEL UE"),
        ),
        "consent-only": handling_marking(
            "marking-definition--00000000-0000-4000-8000-00000000e004",
            "2026-01-01T00:00:00.000Z",
            home_id,
            release_rule="originator-consent",
        ),
    }
    world.store(list(defined.values()))
    for label in ("clear", "green", "amber", "amber+strict", "red"):
        world.markings[label] = [TLP_MARKING_ID[label]]
    for name, m in defined.items():
        world.markings[name] = [TLP_MARKING_ID["green"], m["id"]]
    world.markings["none"] = []
    return world


Page = tuple[list[int], int | None, bool]


def _sealed(party: Party, node: Node, filters: Filters, limit: int) -> bool:
    # As services.taxii.page: toward another party each object travels with its seal.
    return (
        party.id != node.home_party.id
        and limit > 1
        and not filters.ids
        and (not filters.types or SEAL_TYPE in filters.types)
    )


def expected_pages(
    node: Node, party: Party, after: int | None, limit: int, filters: Filters = FILTERS
) -> list[Page]:
    """The unindexed path: every version after ``after`` judged by the gate, in pages."""
    with node.db.read() as conn:
        rows = store.scan(conn, filters, after, 10**7)
    judged = gate.judge(node, party, rows, gate.context(node))
    released = [v.date_added for v, d in judged if d.released]
    wanted = limit // 2 if _sealed(party, node, filters, limit) else limit
    pages: list[Page] = []
    for i in range(0, max(len(released), 1), wanted):
        more = i + wanted < len(released)
        pages.append((released[i : i + wanted], released[i + wanted] - 1 if more else None, more))
    return pages


def read_pages(
    node: Node, party: Party, after: int | None, limit: int, filters: Filters = FILTERS
) -> list[Page]:
    """What a partner polling through TAXII paging gets (the manifest: no ledger, no seals)."""
    pages: list[Page] = []
    cursor: int | None = None
    while True:
        p = taxii.page(node, party, filters, Query(filters, after, limit, cursor), content=False)
        nxt = decode_cursor(p.next) if p.next else None
        pages.append(([r.version.date_added for r in p.releases], nxt, p.more))
        if not p.more:
            return pages
        assert nxt is not None and len(pages) < 10_000
        cursor = nxt
