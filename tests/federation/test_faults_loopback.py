"""Federation faults over real loopback sockets: ``kizuna serve`` subprocesses, ``kizuna sync``.

A peer is SIGKILLed while it serves a large view, then restarted; a node's own sync is
SIGKILLed between pages; peers that never answer, trickle, or answer garbage sit beside real
ones in the same ``kizuna sync`` run. Afterwards every node holds exactly what the scenario's
table says (``scenario``), once each, sealed by the originator, and the gates agree.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from faults import ids, quarantined, sealed_by, versions
from federation_kit import PARTIES
from live_nodes import BadServer, LiveNode, build, cli, popen_cli
from scenario import (
    Published,
    agree_everywhere,
    gate_prediction,
    publish_scenario,
    released_up_to,
)

from kizuna.core import signing
from kizuna.services import explain, parties, peers, sync, tokens
from kizuna.services.node import Node, new_private_key

pytestmark = pytest.mark.slow

NAMES = ["CERT-EU", "BSI", "NISC"]
CAST = {name: PARTIES[name] for name in NAMES}
BIG = 1000  # CERT-EU's GREEN indicators: four pages of 250 objects (and their seals)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Callable[[int], tuple[dict[str, LiveNode], Published]]]:
    made: list[LiveNode] = []

    def make(green: int) -> tuple[dict[str, LiveNode], Published]:
        published: list[Published] = []

        def populate(nodes: dict[str, Node]) -> None:
            agree_everywhere(nodes)
            published.append(publish_scenario(nodes, green=green))

        live = build(tmp_path, CAST, populate)
        made.extend(live.values())
        for node in live.values():
            node.start()
        for node in live.values():
            node.wait_ready()
        return live, published[0]

    yield make
    for node in made:
        node.stop()


def rows_from(db: Path, party_id: str) -> int:
    """Object versions a node has stored from a peer's sync, read from its SQLite directly."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            found = conn.execute(
                "SELECT count(*) FROM objects WHERE path = 'sync' AND submitted_by = ?",
                (party_id,),
            ).fetchone()
            return int(found[0])
    except sqlite3.OperationalError:
        return 0


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"finished before {what}: {process.communicate()[0]!r}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.01)


def end_of_view(peer: Node, to: str) -> int:
    """The ``date_added`` of the last object ``peer`` releases to ``to``: where a complete
    pull's cursor ends."""
    party = parties.find(peer, to)
    return max(e.version.date_added for e in explain.preview(peer, party))


def sync_everyone(live: dict[str, LiveNode], rounds: int = 2) -> None:
    """Every node pulls from its peers over their sockets: ``sync_all`` run from this process
    on each node's own folder (beside its ``kizuna serve``), so no command start-up to wait."""
    for _ in range(rounds):
        for live_node in live.values():
            with live_node.opened() as node:
                results = asyncio.run(sync.sync_all(node, timeout=30, backoff=0.05))
            for r in results:
                assert r.error is None, (live_node.name, r)


def assert_converged(live: dict[str, LiveNode], published: Published) -> None:
    """Each node holds exactly the scenario's objects, once each, sealed by their originators,
    and exactly what the gates of its peers release to it; every database is intact."""
    opened = {name: LiveNode.opened(node) for name, node in live.items()}
    nodes = {name: cm.__enter__() for name, cm in opened.items()}
    try:
        originator = {
            **{oid: "CERT-EU" for oid in (*published.green, *published.strict, *published.red)},
            **{oid: "BSI" for oid in published.bsi_green},
            **{oid: "NISC" for oid in published.nisc_green},
        }
        for name, node in nodes.items():
            held = ids(node, "indicator--")
            assert held == published.expected(name), name
            assert max(versions(node).values()) == 1, name
            assert not quarantined(node), name
            assert ids(node) == gate_prediction(nodes, name), name
            for oid in held - {oid for oid, o in originator.items() if o == name}:
                assert sealed_by(node, oid) == {nodes[originator[oid]].home_party.id}, (name, oid)
    finally:
        for cm in opened.values():
            cm.__exit__(None, None, None)
    for member in live.values():
        with sqlite3.connect(f"file:{member.db}?mode=ro", uri=True) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], member.name


def test_killed_peer_and_killed_sync_lose_and_duplicate_nothing(
    cluster: Callable[[int], tuple[dict[str, LiveNode], Published]],
) -> None:
    live, published = cluster(BIG)
    eu, bsi, nisc = (live[n] for n in NAMES)
    eu_id = PARTIES["CERT-EU"][3]
    from_eu = {*published.green, *published.strict, *published.red}

    # 1. BSI pulls; CERT-EU is SIGKILLed while it serves the pages of its large view.
    puller = popen_cli(bsi.home, "sync", "--timeout", "10")
    wait_for(lambda: rows_from(bsi.db, eu_id) >= 250, puller, "BSI store a page from CERT-EU")
    eu.kill()
    out = puller.communicate(timeout=120)[0].decode()
    assert puller.returncode == 1, out
    assert re.search(r"CERT-EU.*unreachable", out), out
    assert re.search(r"NISC: \d+ pulled", out), out  # the other peer synced in the same run
    with bsi.opened() as b, eu.opened() as a:
        record = peers.find(b, "CERT-EU")
        assert record.last_error and "unreachable" in record.last_error
        held = ids(b) & from_eu
        # The cursor is exactly at what was committed: all before it is held, nothing after.
        assert held == {oid for oid, _ in released_up_to(a, "BSI", record.cursor)} & from_eu
        assert held, "BSI stored pages before CERT-EU died"
        assert record.cursor is not None
        assert record.cursor < end_of_view(a, "BSI"), "kill CERT-EU while BSI is still pulling"
        assert max(versions(b).values()) == 1

    # 2. CERT-EU restarts on its port; NISC's own sync is SIGKILLed between two pages.
    eu.start()
    eu.wait_ready()
    puller = popen_cli(nisc.home, "sync")
    wait_for(lambda: rows_from(nisc.db, eu_id) >= 500, puller, "NISC store pages from CERT-EU")
    puller.kill()
    puller.communicate(timeout=30)
    assert puller.returncode == -signal.SIGKILL
    with nisc.opened() as c, eu.opened() as a:
        cursor = peers.find(c, "CERT-EU").cursor
        held = ids(c) & from_eu
        # Saved only after the objects are committed: the cursor never passes what is held.
        assert {oid for oid, _ in released_up_to(a, "NISC", cursor)} & from_eu <= held
        assert cursor is not None, "NISC committed pages before its sync was killed"
        assert cursor < end_of_view(a, "NISC"), "kill NISC's sync while it is still pulling"
        assert max(versions(c).values()) == 1

    # 3. Everyone syncs again: nothing lost, nothing twice, nothing leaked.
    sync_everyone(live)
    assert_converged(live, published)


def test_dead_slow_and_garbage_peers_never_hold_up_the_real_ones(
    cluster: Callable[[int], tuple[dict[str, LiveNode], Published]],
) -> None:
    live, published = cluster(40)
    bsi = live["BSI"]
    bad = {f"Bad {mode}": BadServer(mode) for mode in BadServer.MODES}
    try:
        with bsi.opened() as node:
            for n, (name, server) in enumerate(bad.items()):
                parties.add_party(
                    node, name, jurisdiction="DE", kind="private",
                    party_id=f"identity--0bad0000-0000-4000-8000-{n:012d}",
                    public_keys=(signing.public_key_of(new_private_key()),),
                )  # fmt: skip
                peers.add(node, server.url, name, "kz_0_nothing")

        # One run: the real peers finish, each bad one fails alone, within its attempts.
        timeout = 1.0
        start = time.monotonic()
        run = cli(bsi.home, "sync", "--timeout", str(timeout))
        elapsed = time.monotonic() - start
        assert run.returncode == 1, run.stdout + run.stderr
        lines = {line.split(":", 1)[0]: line for line in run.stdout.splitlines() if ":" in line}
        for name in ("CERT-EU", "NISC"):
            assert re.match(rf"{name}: \d+ pulled, [1-9]\d* new", lines[name]), run.stdout
        for name in ("Bad silent", "Bad trickle"):
            assert "timed out" in lines[name], run.stdout
        for name in ("Bad html", "Bad cut", "Bad hang-up", "Bad error"):
            assert name in lines and "pulled" not in lines[name], run.stdout
        # Four attempts each cut off at the timeout, with backoff between (0.5 + 1 + 2 s),
        # plus the command's own start: far from "forever", which a trickle would be otherwise.
        assert elapsed < 4 * timeout + 3.5 + 10, elapsed

        listing = cli(bsi.home, "peer", "list")
        assert listing.returncode == 0, listing.stderr
        for name in bad:
            row = next(line for line in listing.stdout.splitlines() if name in line)
            assert "(1x)" in row and "never" in row, row
        with bsi.opened() as node:
            token = tokens.create(node, node.home_party.id, "test").value
        shown = httpx.get(
            bsi.url + "api/peers", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        by_name = {p["party_name"]: p for p in shown}
        for name in bad:
            assert by_name[name]["last_error"], name
            assert by_name[name]["cursor"] is None and by_name[name]["pulled"] == 0, name
        for name in ("CERT-EU", "NISC"):
            assert by_name[name]["last_error"] is None and by_name[name]["cursor"], name

        # Nothing came from the bad peers; the real ones gave what they owe.
        with bsi.opened() as node:
            assert ids(node, "indicator--") == published.expected("BSI")
            for n in range(len(bad)):
                assert rows_from(bsi.db, f"identity--0bad0000-0000-4000-8000-{n:012d}") == 0

        removed = cli(bsi.home, "peer", "remove", "Bad silent")
        assert removed.returncode == 0, removed.stderr
        with bsi.opened() as node:
            assert "Bad silent" not in {
                parties.find(node, r.party_id).name for r in peers.all_peers(node)
            }
            for name in bad:
                if name != "Bad silent":
                    peers.remove(node, name)
    finally:
        for server in bad.values():
            server.close()
    sync_everyone(live)
    assert_converged(live, published)
