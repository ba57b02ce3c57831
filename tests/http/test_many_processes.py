"""Many processes, one node: ``kizuna serve --workers 2`` and a second ``kizuna serve``, all on
one PostgreSQL database (and on SQLite, one folder), behave as one node.

Two feeds post envelopes to different processes, overlapping on purpose (the same versions
sent to two processes at once), while a poller pages by ``added_after`` from process to
process. Afterwards: every acknowledged object is stored exactly once, the poller received
every object exactly once (none skipped because an earlier ``date_added`` committed late, none
twice), no response was a 5xx, and the ledger is one valid chain.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from processes import Served, serve, stopped_at_end
from sqlalchemy import func, select
from stix_factory import INBOX_URL, RELEASED_URL, indicator

from kizuna.core.taxii import MEDIA_TAXII
from kizuna.services import ledger, parties, tokens
from kizuna.services.node import init_node, open_node
from kizuna.storage.schema import objects
from support import backend_url

pytestmark = pytest.mark.slow

ENVELOPES = 12
PER_ENVELOPE = 25


@dataclass
class Setup:
    home: Path
    url: str | None
    home_token: str
    feeds: list[tuple[str, str]]  # (party id, token)


@pytest.fixture(params=["postgresql", "sqlite"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    with backend_url(request.param) as url:
        home = tmp_path / "node"
        node = init_node(
            home,
            party_name="CERT-EU",
            jurisdiction="EU",
            kind="csirt",
            scheme="EU",
            database_url=url,
        )
        try:
            feeds = []
            for name, cc in (("BSI", "DE"), ("ANSSI", "FR")):
                p = parties.add_party(node, name, jurisdiction=cc, kind="government", scheme=cc)
                feeds.append((p.id, tokens.create(node, p.id).value))
            home_token = tokens.create(node, node.home_party.id).value
        finally:
            node.close()
        yield Setup(home, url, home_token, feeds)


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    with stopped_at_end() as started:
        yield started


@dataclass
class Record:
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: set[str] = field(default_factory=set)
    polled: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": MEDIA_TAXII, "Accept": MEDIA_TAXII}


def feed(urls: list[str], party: str, token: str, seeds: list[list[str]], rec: Record) -> None:
    """Post each envelope to the next process in turn."""
    try:
        for n, batch in enumerate(seeds):
            body = orjson.dumps({"objects": [indicator(s, created_by=party) for s in batch]})
            r = httpx.post(
                urls[n % len(urls)] + INBOX_URL + "objects/",
                content=body,
                headers=headers(token),
                timeout=60,
            )
            rec.statuses[r.status_code] += 1
            if r.status_code == 202:
                status = r.json()
                rec.acknowledged.update(s["id"] for s in status.get("successes", []))
                if status.get("failures"):
                    rec.errors.append(f"failures: {status['failures']}")
    except BaseException as exc:  # reported by the test
        rec.errors.append(repr(exc))


def poll_once(url: str, token: str, after: str | None, rec: Record) -> tuple[str | None, bool]:
    """One page by ``added_after``; returns the new position and whether there is more."""
    params: dict[str, Any] = {"limit": 40}
    if after:
        params["added_after"] = after
    r = httpx.get(
        url + RELEASED_URL + "objects/", params=params, headers=headers(token), timeout=60
    )
    rec.statuses[r.status_code] += 1
    if r.status_code != 200:
        rec.errors.append(f"poll {r.status_code}: {r.text[:200]}")
        return after, False
    body = r.json()
    rec.polled += [o["id"] for o in body.get("objects", []) if o["type"] == "indicator"]
    return r.headers.get("X-TAXII-Date-Added-Last") or after, bool(body.get("more"))


def reread(urls: list[str], token: str, rec: Record, done: threading.Event) -> None:
    """Page through everything the caller may see, again and again; once told to stop, one
    last whole pass (which sees everything committed)."""
    turn = 0
    try:
        last = False
        while not last:
            last = done.is_set()
            position, more = None, True
            while more:
                position, more = poll_once(urls[turn % 2], token, position, rec)
                turn += 1
    except BaseException as exc:
        rec.errors.append(repr(exc))


def test_processes_on_one_database_act_as_one_node(
    setup: Setup, servers: list[Served], tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    servers.append(serve(setup.home, setup.url, log, "--workers", "2"))
    servers.append(serve(setup.home, setup.url, log))
    urls = [servers[0].url, servers[1].url]  # the first is served by two processes
    # Each feed posts every envelope twice, through two threads, to two processes at once:
    # the same versions race to be stored and must end up stored once.
    rec = Record()
    threads = []
    for f, (party, token) in enumerate(setup.feeds):
        seeds = [[f"mp-{f}-{e}-{i}" for i in range(PER_ENVELOPE)] for e in range(ENVELOPES)]
        for shift in (0, 1):
            order = urls[shift:] + urls[:shift]
            threads.append(
                threading.Thread(target=feed, args=(order, party, token, seeds, rec), daemon=True)
            )
    # Each feed also reads its own objects back, from both processes: releases to it are
    # written to the ledger by several processes at once.
    readers = [Record() for _ in setup.feeds]
    done = threading.Event()
    for (_, token), got in zip(setup.feeds, readers, strict=True):
        threads.append(threading.Thread(target=reread, args=(urls, token, got, done), daemon=True))
    for t in threads:
        t.start()
    position: str | None = None
    turn = 0
    while any(t.is_alive() for t in threads[:4]):
        position, _ = poll_once(urls[turn % 2], setup.home_token, position, rec)
        turn += 1
    done.set()
    for t in threads:
        t.join()
    more = True
    while more:  # the rest, still alternating processes
        position, more = poll_once(urls[turn % 2], setup.home_token, position, rec)
        turn += 1

    assert not rec.errors, rec.errors[:5]
    assert all(code < 500 for code in rec.statuses), rec.statuses
    expected = {indicator(f"mp-{f}-{e}-{i}")["id"] for f in range(2) for e in range(ENVELOPES)
                for i in range(PER_ENVELOPE)}  # fmt: skip
    assert rec.acknowledged == expected
    twice = [i for i, n in Counter(rec.polled).items() if n > 1]
    assert not twice, f"{len(twice)} objects polled twice, e.g. {twice[:3]}"
    assert set(rec.polled) == expected
    for got in readers:
        assert not got.errors, got.errors[:5]
        assert all(code < 500 for code in got.statuses), got.statuses

    node = open_node(setup.home, database_url=setup.url, upgrade=False)
    try:
        with node.db.read() as conn:
            per_id = conn.execute(
                select(objects.c.id, func.count())
                .where(objects.c.type == "indicator")
                .group_by(objects.c.id)
            ).all()
        assert {i for i, _ in per_id} == expected
        assert all(n == 1 for _, n in per_id)
        audit = ledger.verify(node)
        assert audit.intact, audit.problems[:3]
        # Each feed was released each of its objects it read once: one entry per version.
        entries = ledger.show(node)
        released = Counter((e.recipient, e.released_id) for e in entries)
        assert all(n == 1 for n in released.values())
        assert {i for _, i in released} >= expected  # the feeds read every one of them
    finally:
        node.close()
