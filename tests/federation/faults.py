"""Faults for the federation tests: transports that misbehave around a real one, and what a
node holds, read straight from its store.

Each transport wraps the real transport to a peer (``httpx.ASGITransport`` in one process, or
``httpx.AsyncHTTPTransport`` over loopback) and only touches the pulls of the peer's RELEASED
collection; everything else (the agreement copies) passes through unchanged.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from kizuna.core.handling import Handling
from kizuna.core.taxii import RELEASED
from kizuna.services.node import Node
from kizuna.storage import seals as seal_store
from kizuna.storage.schema import objects as objects_table
from kizuna.storage.schema import seals as seals_table

Objects = list[dict[str, Any]]


def is_pull(request: httpx.Request) -> bool:
    return request.method == "GET" and f"/collections/{RELEASED}/objects/" in request.url.path


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    # The body changes, so its length does too.
    return [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]


class Wrapper(httpx.AsyncBaseTransport):
    """Passes everything to the real transport; subclasses change the pulls."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.pulls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not is_pull(request):
            return await self.inner.handle_async_request(request)
        self.pulls += 1
        return await self.pull(request)

    async def pull(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def real(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        response = await self.inner.handle_async_request(request)
        return response, await response.aread()

    async def aclose(self) -> None:
        await self.inner.aclose()


class Stall(Wrapper):
    """A peer that takes ``delay`` seconds before it answers a pull (far beyond any timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, delay: float = 3600) -> None:
        super().__init__(inner)
        self.delay = delay

    async def pull(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self.delay)
        return await super().pull(request)


class Canned(Wrapper):
    """A peer that answers every pull with the same status, headers and body."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(inner)
        self.status, self.body, self.headers = status, body, headers or {}

    async def pull(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, headers=self.headers, content=self.body)


class Truncate(Wrapper):
    """A peer whose answers to pulls lose their second half (the real headers, half a body)."""

    async def pull(self, request: httpx.Request) -> httpx.Response:
        response, body = await self.real(request)
        return httpx.Response(
            response.status_code, headers=_headers(response), content=body[: len(body) // 2]
        )


class Rewrite(Wrapper):
    """Applies ``change`` to the objects of every page the peer sends (a path that tampers)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, change: Callable[[Objects], Objects]):
        super().__init__(inner)
        self.change = change

    async def pull(self, request: httpx.Request) -> httpx.Response:
        response, body = await self.real(request)
        envelope = orjson.loads(body)
        if "objects" in envelope:
            envelope["objects"] = self.change(envelope["objects"])
        return httpx.Response(
            response.status_code, headers=_headers(response), content=orjson.dumps(envelope)
        )


class Replay(Wrapper):
    """A peer (or a cache on the path) that sends earlier pages again.

    ``schedule(n)`` says, for the n-th pull (from 1), which earlier answer to send instead of
    the real one: None for the real one, k for the k-th answer given (a replay of it).
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, schedule: Callable[[int], int | None]
    ) -> None:
        super().__init__(inner)
        self.schedule = schedule
        self.sent: list[tuple[int, list[tuple[str, str]], bytes]] = []
        self.replayed = 0

    async def pull(self, request: httpx.Request) -> httpx.Response:
        which = self.schedule(self.pulls)
        if which is not None and which <= len(self.sent):
            status, headers, body = self.sent[which - 1]
            self.replayed += 1
        else:
            response, body = await self.real(request)
            status, headers = response.status_code, _headers(response)
        self.sent.append((status, headers, body))
        return httpx.Response(status, headers=headers, content=body)


class Doubled(Wrapper):
    """A peer that sends every object (and seal) of a page twice in the same envelope."""

    async def pull(self, request: httpx.Request) -> httpx.Response:
        response, body = await self.real(request)
        envelope = orjson.loads(body)
        if "objects" in envelope:
            envelope["objects"] = envelope["objects"] + envelope["objects"]
        return httpx.Response(
            response.status_code, headers=_headers(response), content=orjson.dumps(envelope)
        )


# What a node holds, straight from its store.


def versions(node: Node) -> Counter[tuple[str, int]]:
    """How many rows the store holds for each (id, modified): exactly one each, always."""
    t = objects_table
    with node.db.read() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.modified, func.count()).group_by(t.c.id, t.c.modified)
        )
        return Counter({(r[0], int(r[1])): int(r[2]) for r in rows})


def ids(node: Node, prefix: str = "") -> set[str]:
    """The ids of the objects a node holds (of one type, with ``prefix="indicator--"``)."""
    return {oid for oid, _ in versions(node) if oid.startswith(prefix)}


def received_from(node: Node, party_id: str) -> set[tuple[str, int]]:
    """The versions (id, modified) a node stored from a peer's sync (the first copy it got)."""
    t = objects_table
    with node.db.read() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.modified).where(t.c.path == "sync", t.c.submitted_by == party_id)
        )
        return {(r[0], int(r[1])) for r in rows}


def quarantined(node: Node) -> dict[str, str]:
    """Object id → the quarantine reason, for every quarantined version a node holds."""
    t = objects_table
    with node.db.read() as conn:
        rows = conn.execute(select(t.c.id, t.c.handling)).all()
    out = {}
    for oid, raw in rows:
        reason = Handling.from_json(raw).quarantine
        if reason is not None:
            out[oid] = reason
    return out


def sealed_by(node: Node, object_id: str) -> set[str]:
    """The parties whose valid seal of an object's latest version a node keeps."""
    t = objects_table
    with node.db.read() as conn:
        modified = conn.execute(
            select(func.max(t.c.modified)).where(t.c.id == object_id)
        ).scalar_one()
        found = seal_store.find(conn, [(object_id, int(modified))])
    return {s.signer for seals in found.values() for s in seals}


def seals_kept(node: Node, object_ids: set[str]) -> int:
    """How many seals a node keeps for any version of these objects."""
    t = seals_table
    with node.db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(t).where(t.c.object_id.in_(sorted(object_ids)))
            ).scalar_one()
        )
