"""What time releases, the genuine copy, and suspensions, over real loopback sockets (``kizuna
serve`` subprocesses; a tampering proxy on one path; the CLI where an operator acts).

An embargo that ends must reach the parties it becomes releasable to, and an agreement that
starts must open its parties' views, though their pull cursors moved past those objects long
before; and neither may make a peer read the whole view again on every poll.
The clock here is the real one: the moments are a few seconds ahead, and the test waits for
them to pass (no timing is asserted).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from faults import Rewrite, ids, quarantined, sealed_by, versions
from federation_kit import PARTIES
from live_nodes import LiveNode, build, cli
from scenario import STAMP, indicator, publish

from kizuna.core import agreements as core_agreements
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import Filters, Query
from kizuna.services import agreements, explain, parties, sealing, sync, taxii
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion
from kizuna.storage.peers import PeerRecord

pytestmark = pytest.mark.slow

NAMES = ["CERT-EU", "BSI", "NISC"]
CAST = {name: PARTIES[name] for name in NAMES}
OPEN = 60  # CERT-EU's GREEN indicators everyone entitled holds from the start


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Callable[[], dict[str, LiveNode]]]:
    made: list[LiveNode] = []

    def make() -> dict[str, LiveNode]:
        live = build(tmp_path, CAST, lambda nodes: None)
        made.extend(live.values())
        for node in live.values():
            node.start()
        for node in live.values():
            node.wait_ready()
        return live

    yield make
    for node in made:
        node.stop()


def agree(nodes: dict[str, Node], names: list[str], title: str, valid_from: int) -> str:
    """An agreement among ``names``, signed by each on its own key, stored on every node."""
    first = nodes[names[0]]
    document = agreements.from_template(
        first, {"title": title, "parties": names, "valid_from": format_timestamp(valid_from)}
    )
    for name in names:
        node = nodes[name]
        document = core_agreements.sign_document(document, node.home_party.id, node.private_key)
    for name in names:
        agreements.add(nodes[name], document)
    return str(document["id"])


def sync_round(live: dict[str, LiveNode]) -> dict[str, int]:
    """Every node pulls from its peers once; how many objects each pulled in all."""
    pulled = {}
    for live_node in live.values():
        with live_node.opened() as node:
            results = asyncio.run(sync.sync_all(node, timeout=30, backoff=0.05))
        for r in results:
            assert r.error is None, (live_node.name, r)
        pulled[live_node.name] = sum(r.pulled for r in results)
    return pulled


def store_versions(node: Node, object_id: str) -> list[StoredVersion]:
    with node.db.read() as conn:
        return store.versions_of(conn, object_id)


def wait_past(moment_us: int) -> None:
    while time.time() * 1e6 <= moment_us + 1000:
        time.sleep(0.05)


def test_an_embargo_that_ends_and_an_agreement_that_starts_reach_their_parties(
    cluster: Callable[[], dict[str, LiveNode]],
) -> None:
    live = cluster()
    eu_id = PARTIES["CERT-EU"][3]
    opened = {name: LiveNode.opened(node) for name, node in live.items()}
    nodes = {name: cm.__enter__() for name, cm in opened.items()}
    try:
        now = nodes["CERT-EU"].now()
        embargo_ends = now + 8_000_000
        nisc_starts = embargo_ends + 4_000_000
        agree(nodes, ["CERT-EU", "BSI"], "CERT-EU and BSI", now - 3_600_000_000)
        agree(nodes, ["CERT-EU", "BSI", "NISC"], "NISC joins", nisc_starts)
        green = TLP_MARKING_ID["green"]
        embargo = handling_marking(
            "marking-definition--e0000000-0000-4000-8000-00000000e001",
            STAMP,
            eu_id,
            embargo_until=format_timestamp(embargo_ends),
            embargo_participants=[],
            name="embargo for a few seconds",
        )
        held_back = [indicator("embargoed", n, eu_id, [green, embargo["id"]]) for n in range(3)]
        open_now = [indicator("open", n, eu_id, [green]) for n in range(OPEN)]
        publish(nodes["CERT-EU"], [embargo, *held_back, *open_now])
    finally:
        for cm in opened.values():
            cm.__exit__(None, None, None)
    embargoed = {o["id"] for o in held_back}
    opened_ids = {o["id"] for o in open_now}

    def holds(name: str) -> set[str]:
        with live[name].opened() as node:
            return ids(node, "indicator--")

    # Before the embargo ends: BSI holds the open objects only; NISC, whose agreement has not
    # started, holds nothing of CERT-EU's. Every cursor moves past the embargoed objects.
    sync_round(live)
    sync_round(live)
    assert time.time() * 1e6 < embargo_ends, "the first rounds must end before the embargo"
    assert holds("BSI") == opened_ids
    assert holds("NISC") == set()

    # The embargo ends: BSI receives the embargoed objects, without reading its view again.
    wait_past(embargo_ends)
    pulled = sync_round(live)
    assert time.time() * 1e6 < nisc_starts, "this round must end before NISC's agreement starts"
    assert holds("BSI") == opened_ids | embargoed
    assert holds("NISC") == set()
    # The re-dated objects and their seals re-enter the feed (from CERT-EU, and from BSI
    # relaying them once it has them): nothing like the whole view again.
    assert 0 < pulled["BSI"] <= 4 * len(embargoed), pulled
    with live["BSI"].opened() as bsi:
        for oid in embargoed:
            assert sealed_by(bsi, oid) == {eu_id}
        assert max(versions(bsi).values()) == 1

    # NISC's agreement starts: its parties' nodes read each other's views once again.
    wait_past(nisc_starts)
    sync_round(live)
    assert holds("NISC") == opened_ids | embargoed
    with live["NISC"].opened() as nisc:
        assert max(versions(nisc).values()) == 1
        for oid in embargoed:
            assert sealed_by(nisc, oid) == {eu_id}
    # Once NISC's copies have echoed back to their originator (the originator always
    # receives its own), a poll reads only what is new: nothing. No view is read again.
    sync_round(live)
    assert sync_round(live) == {"CERT-EU": 0, "BSI": 0, "NISC": 0}


def test_a_tampered_copy_never_blocks_the_genuine_one(
    cluster: Callable[[], dict[str, LiveNode]],
) -> None:
    """A proxy on the path CERT-EU → BSI alters one object: BSI quarantines it. The genuine
    copy then comes relayed by NISC: BSI keeps it, releases it, and sets the tampered copy
    aside for its operator (``kizuna audit set-aside``)."""
    live = cluster()
    eu_id = PARTIES["CERT-EU"][3]
    opened = {name: LiveNode.opened(node) for name, node in live.items()}
    nodes = {name: cm.__enter__() for name, cm in opened.items()}
    try:
        agree(nodes, NAMES, "all partners", nodes["CERT-EU"].now() - 3_600_000_000)
        objects = [indicator("eu", n, eu_id, [TLP_MARKING_ID["green"]]) for n in range(5)]
        publish(nodes["CERT-EU"], objects)
    finally:
        for cm in opened.values():
            cm.__exit__(None, None, None)
    target = objects[2]

    def tamper(page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**o, "name": "pay here"} if o.get("id") == target["id"] else o for o in page]

    def through_proxy(record: PeerRecord) -> httpx.AsyncBaseTransport | None:
        if record.url == live["CERT-EU"].url:
            return Rewrite(httpx.AsyncHTTPTransport(), tamper)
        return None

    def pull(name: str, peer: str, **kwargs: Any) -> sync.PeerResult:
        with live[name].opened() as node:
            (result,) = asyncio.run(sync.sync_all(node, only=peer, backoff=0.05, **kwargs))
        assert result.error is None, result
        return result

    assert pull("BSI", "CERT-EU", transports=through_proxy).quarantined == 1
    with live["BSI"].opened() as bsi:
        assert set(quarantined(bsi)) == {target["id"]}
    pull("NISC", "CERT-EU")  # no proxy on this path
    relayed = pull("BSI", "NISC")
    assert relayed.replaced == 1

    with live["BSI"].opened() as bsi:
        assert quarantined(bsi) == {}
        assert max(versions(bsi).values()) == 1
        assert sealed_by(bsi, target["id"]) == {eu_id}
        (held,) = store_versions(bsi, target["id"])
        assert orjson.loads(held.content)["name"] == target["name"]
        (aside,) = sealing.set_aside(bsi)
        assert aside.id == target["id"] and orjson.loads(aside.content)["name"] == "pay here"
        assert aside.submitted_by == eu_id and aside.replaced_by == PARTIES["NISC"][3]
        # What BSI releases onward is the genuine copy, sealed by CERT-EU.
        nisc = parties.find(bsi, "NISC")
        page = taxii.page(bsi, nisc, Filters(), Query(Filters(), None, 1000, None))
        released = [orjson.loads(r.content) for r in page.releases if r.id == target["id"]]
        assert [o["name"] for o in released] == [target["name"]]
    shown = cli(live["BSI"].home, "audit", "set-aside")
    assert shown.returncode == 0, shown.stderr
    assert target["id"] in shown.stdout and "CERT-EU" in shown.stdout, shown.stdout


def test_a_suspension_is_signed_and_holds_on_every_partys_node(
    cluster: Callable[[], dict[str, LiveNode]],
) -> None:
    """BSI suspends the agreement on its node (``kizuna agreement suspend``): once they sync,
    CERT-EU's and NISC's nodes hold it suspended too and release nothing to BSI under it; BSI
    resumes, and it is in force everywhere again."""
    live = cluster()
    opened = {name: LiveNode.opened(node) for name, node in live.items()}
    nodes = {name: cm.__enter__() for name, cm in opened.items()}
    try:
        aid = agree(nodes, NAMES, "all partners", nodes["CERT-EU"].now() - 3_600_000_000)
        nisc_id = nodes["NISC"].home_party.id
        mine = [indicator("nisc", n, nisc_id, [TLP_MARKING_ID["green"]]) for n in range(5)]
        publish(nodes["NISC"], mine)
    finally:
        for cm in opened.values():
            cm.__exit__(None, None, None)

    def states() -> dict[str, str]:
        out = {}
        for name, node in live.items():
            with node.opened() as n:
                out[name] = agreements.get(n, aid).agreement.state
        return out

    def nisc_releases_to_bsi() -> set[str]:
        with live["NISC"].opened() as n:
            bsi = parties.find(n, "BSI")
            return {e.version.id for e in explain.preview(n, bsi) if e.released_id} & {
                o["id"] for o in mine
            }

    assert nisc_releases_to_bsi() == {o["id"] for o in mine}
    done = cli(live["BSI"].home, "agreement", "suspend", aid)
    assert done.returncode == 0, done.stderr
    sync_round(live)
    assert states() == {"CERT-EU": "suspended", "BSI": "suspended", "NISC": "suspended"}
    assert nisc_releases_to_bsi() == set()
    # NISC's operator cannot lift BSI's suspension.
    refused = cli(live["NISC"].home, "agreement", "resume", aid)
    with live["NISC"].opened() as n:
        assert agreements.get(n, aid).agreement.state == "suspended", refused.stdout
    done = cli(live["BSI"].home, "agreement", "resume", aid)
    assert done.returncode == 0, done.stderr
    sync_round(live)
    assert states() == {"CERT-EU": "active", "BSI": "active", "NISC": "active"}
    assert nisc_releases_to_bsi() == {o["id"] for o in mine}
