"""The benchmark's workload: deterministic STIX 2.1 indicators, packed into TAXII envelopes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

# REFERENCE.md: TLP 2.0 CLEAR, so every server (and kizuna's gate) may hand the objects back.
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
STAMP = "2026-01-01T00:00:00.000Z"


def indicator_id(n: int) -> str:
    """A fixed, valid UUIDv4-shaped id for the n-th indicator (version 4, RFC 4122 variant)."""
    return f"indicator--6b1c0000-0000-4000-8000-{n:012d}"


def indicator(n: int) -> dict[str, Any]:
    """The n-th indicator: same bytes on every run, a distinct IPv4 address for n < 2**24."""
    address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(n),
        "created": STAMP,
        "modified": STAMP,
        "name": f"bench indicator {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "object_marking_refs": [TLP_CLEAR],
    }


def envelopes(count: int, size: int) -> Iterator[tuple[int, bytes]]:
    """TAXII 2.1 envelopes of ``size`` indicators covering 0..count-1: (objects, body)."""
    for start in range(0, count, size):
        batch = [indicator(n) for n in range(start, min(start + size, count))]
        yield len(batch), orjson.dumps({"objects": batch})


def prefetched(items: Iterable[tuple[int, bytes]], depth: int = 8) -> Iterator[tuple[int, bytes]]:
    """The same items, made ``depth`` ahead in a thread while the server works on the last."""
    ready: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=depth)

    def produce() -> None:
        for item in items:
            ready.put(item)
        ready.put(None)

    threading.Thread(target=produce, daemon=True).start()
    while (item := ready.get()) is not None:
        yield item
