"""Export what a party receives, through the gate, as a STIX bundle or NDJSON.

Two kinds, never confused (DESIGN.md "release", "ledger"):

* a **release** (``releases``, ``bundle_chunks``, ``ndjson_chunks``, ``bundle_for``): the bytes
  are handed to the party, so each object travels with its seal and is written to the ledger,
  exactly as a TAXII read by that party would be (``kizuna export --to``, a party's own
  ``/api/export``);
* a **preview** (``previews`` and the same functions with ``preview=True``): the same bytes,
  built by the same gate, for the home party's own eyes; nothing is sealed and nothing is
  written to the ledger (``kizuna preview --out``, the home's ``/api/export?to=PARTY``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from kizuna.core.parties import Party
from kizuna.core.taxii import Filters, Query, decode_cursor
from kizuna.services import gate, taxii
from kizuna.services.node import Node
from kizuna.storage import objects as store

PAGE = 1000


def releases(
    node: Node, recipient: Party, filters: Filters | None = None
) -> Iterator[gate.Release]:
    """Every object version's latest release to ``recipient``, page by page through the gate:
    a release, sealed and written to the ledger."""
    filters = filters or Filters(spec_versions=("2.1",))
    cursor: int | None = None
    while True:
        p = taxii.page(node, recipient, filters, Query(filters, None, PAGE, cursor))
        yield from p.releases
        if not p.more or p.next is None:
            return
        cursor = decode_cursor(p.next)


def previews(
    node: Node, recipient: Party, filters: Filters | None = None
) -> Iterator[gate.Release]:
    """What ``releases`` would hand ``recipient`` now, built by the gate but neither sealed nor
    written to the ledger: a preview is not a release."""
    filters = filters or Filters(spec_versions=("2.1",))
    ctx = gate.context(node)
    after: int | None = None
    while True:
        with node.db.read() as conn:
            rows = store.scan(conn, filters, after, PAGE)
        judged = gate.judge(node, recipient, rows, ctx)
        # Withholding is a gate decision (counted as the TAXII pages count it); what would be
        # released is not counted as released, since nothing is.
        node.metrics.gate([], [(v, d) for v, d in judged if not d.released])
        yield from gate.preview(node, recipient, [(v, d) for v, d in judged if d.released]).released
        if len(rows) < PAGE:
            return
        after = rows[-1].date_added


@dataclass
class Tally:
    """How many objects an export wrote (seals that travel with them not counted)."""

    objects: int = 0
    derived: int = field(default=0)


def chosen(
    node: Node, recipient: Party, *, preview: bool = False, tally: Tally | None = None
) -> Iterator[gate.Release]:
    """``releases`` or ``previews``, counted into ``tally``."""
    for r in previews(node, recipient) if preview else releases(node, recipient):
        if tally is not None:
            tally.objects += 1
            tally.derived += r.derived
        yield r


def bundle_chunks(
    node: Node, recipient: Party, *, preview: bool = False, tally: Tally | None = None
) -> Iterator[bytes]:
    """A STIX bundle, streamed in chunks."""
    yield b'{"type":"bundle","id":"' + node.new_id("bundle").encode() + b'","objects":['
    first = True
    for r in chosen(node, recipient, preview=preview, tally=tally):
        for part in _parts(r):
            yield part if first else b"," + part
            first = False
    yield b"]}"


def _parts(r: gate.Release) -> tuple[bytes, ...]:
    """An object and the seal that travels with it."""
    return (r.content,) if r.seal is None else (r.content, r.seal)


def ndjson_chunks(
    node: Node, recipient: Party, *, preview: bool = False, tally: Tally | None = None
) -> Iterator[bytes]:
    """One released object per line."""
    for r in chosen(node, recipient, preview=preview, tally=tally):
        for part in _parts(r):
            yield part + b"\n"


def bundle_for(node: Node, recipient: Party, *, preview: bool = False) -> bytes:
    """The whole bundle in memory (tests); the API and the CLI stream ``bundle_chunks``."""
    return b"".join(bundle_chunks(node, recipient, preview=preview))
