"""Export exactly what a party would receive, through the gate, as a STIX bundle or NDJSON."""

from __future__ import annotations

from collections.abc import Iterator

from kizuna.core.parties import Party
from kizuna.core.taxii import Filters, Query, decode_cursor
from kizuna.services import gate, taxii
from kizuna.services.node import Node

PAGE = 1000


def releases(
    node: Node, recipient: Party, filters: Filters | None = None
) -> Iterator[gate.Release]:
    """Every object version's latest release to ``recipient``, page by page through the gate."""
    filters = filters or Filters(spec_versions=("2.1",))
    cursor: int | None = None
    while True:
        p = taxii.page(node, recipient, filters, Query(filters, None, PAGE, cursor))
        yield from p.releases
        if not p.more or p.next is None:
            return
        cursor = decode_cursor(p.next)


def bundle_chunks(node: Node, recipient: Party) -> Iterator[bytes]:
    """A STIX bundle, streamed in chunks."""
    yield b'{"type":"bundle","id":"' + node.new_id("bundle").encode() + b'","objects":['
    first = True
    for r in releases(node, recipient):
        for part in _parts(r):
            yield part if first else b"," + part
            first = False
    yield b"]}"


def _parts(r: gate.Release) -> tuple[bytes, ...]:
    """An object and the seal that travels with it."""
    return (r.content,) if r.seal is None else (r.content, r.seal)


def ndjson_chunks(node: Node, recipient: Party) -> Iterator[bytes]:
    """One released object per line."""
    for r in releases(node, recipient):
        for part in _parts(r):
            yield part + b"\n"


def bundle_for(node: Node, recipient: Party) -> bytes:
    """The whole bundle in memory (the API's export); the CLI streams ``bundle_chunks``."""
    return b"".join(bundle_chunks(node, recipient))
