"""Background sync once per node, with fail-over: two ``kizuna serve`` of one hub (one folder)
sync from a peer every second, but only the holder of the node's lease pulls. Kill it
(SIGKILL); the other takes over and pulls what is new. Nothing is pulled twice: the hub's count
of objects pulled equals what one complete read of the peer's view returns, before and after.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from federation_kit import PARTIES
from live_nodes import LiveNode, build
from scenario import agree_everywhere, publish_scenario

from kizuna.core.taxii import MEDIA_TAXII, RELEASED
from kizuna.services import ingest, peers, tokens
from kizuna.services.node import Node
from kizuna.storage.lease import LOCK_FILE

sys.path.insert(0, str(Path(__file__).parent.parent / "http"))
from processes import Served, serve, stopped_at_end
from stix_factory import indicator

pytestmark = pytest.mark.slow


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    with stopped_at_end() as started:
        yield started


def full_read(peer_url: str, token: str) -> int:
    """How many objects (seals included) one complete read of the peer's view returns."""
    count, after, more = 0, None, True
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TAXII}
    while more:
        params: dict[str, str | int] = {"limit": 500}
        if after:
            params["added_after"] = after
        r = httpx.get(
            f"{peer_url}taxii2/root/collections/{RELEASED}/objects/",
            params=params,
            headers=headers,
            timeout=30,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        count += len(body.get("objects", []))
        after, more = r.headers.get("X-TAXII-Date-Added-Last"), bool(body.get("more"))
    return count


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.2)


def test_killed_holder_hands_background_sync_to_another_and_nothing_is_pulled_twice(
    tmp_path: Path, servers: list[Served]
) -> None:
    reference: list[str] = []

    def populate(nodes: dict[str, Node]) -> None:
        agree_everywhere(nodes)
        publish_scenario(nodes, green=30)
        reference.append(tokens.create(nodes["BSI"], "CERT-EU", "reference").value)

    cast = {name: PARTIES[name] for name in ("CERT-EU", "BSI")}
    live: dict[str, LiveNode] = build(tmp_path, cast, populate)
    bsi, hub = live["BSI"], live["CERT-EU"]
    with hub.opened() as node:
        node.set_setting("sync_interval", "1")
        peer_id = peers.all_peers(node)[0].id
    bsi.start()
    try:
        bsi.wait_ready()
        log = tmp_path / "hub.log"
        servers.append(serve(hub.home, None, log))
        servers.append(serve(hub.home, None, log))

        def pulled() -> int:
            with hub.opened() as node:
                return next(p.pulled for p in peers.all_peers(node) if p.id == peer_id)

        expected = full_read(bsi.url, reference[0])
        assert expected > 0
        wait_until(lambda: pulled() >= expected, "the first complete pull")
        time.sleep(3)  # three more sync intervals: both processes had the chance to pull
        assert pulled() == expected

        holder = int((hub.home / LOCK_FILE).read_text())
        assert holder in {s.process.pid for s in servers}
        os.kill(holder, signal.SIGKILL)
        survivor = next(s for s in servers if s.process.pid != holder)

        with bsi.opened() as node:
            new = [
                indicator(f"after-failover-{i}", tlp="green", created_by=node.home_party.id)
                for i in range(20)
            ]
            outcomes = ingest.ingest(node, new, submitter=node.home_party, path="import")
            assert all(o.status == "stored" for o in outcomes)
        expected = full_read(bsi.url, reference[0])
        wait_until(lambda: pulled() >= expected, "the pull after fail-over")
        time.sleep(3)
        assert pulled() == expected
        assert int((hub.home / LOCK_FILE).read_text()) == survivor.process.pid
        with hub.opened() as node:
            from kizuna.storage import objects as store

            with node.db.read() as conn:
                held = store.latest(conn, [o["id"] for o in new])
        assert set(held) == {o["id"] for o in new}
    finally:
        bsi.stop()
