"""Joint attribution over real loopback sockets: three ``kizuna serve`` processes, pulled by
the real TAXII client. CERT-EU and BSI share a case and a statement; NISC, in the same
agreement but no participant, holds nothing of the case and receives the published
attribution only once the joint release time (a few seconds ahead, on the real clock) has
passed. No timing is asserted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faults import ids
from federation_kit import PARTIES
from live_nodes import LiveNode, build, cli

from kizuna.core import agreements as core_agreements
from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services import agreements, attribution, ingest, sync
from kizuna.services.node import Node

pytestmark = pytest.mark.slow

CAST = {name: PARTIES[name] for name in ("CERT-EU", "BSI", "NISC")}
STAMP = "2026-05-01T00:00:00.000Z"
CAMPAIGN = "campaign--100b0000-0000-4000-8000-000000000001"
APT = "intrusion-set--100b0000-0000-4000-8000-000000000002"


def _populate(nodes: dict[str, Node]) -> None:
    names = list(CAST)
    first = nodes[names[0]]
    document = agreements.from_template(
        first, {"title": "EU-DE-JP", "parties": names, "valid_from": "2026-01-01T00:00:00Z"}
    )
    for name in names:
        document = core_agreements.sign_document(
            document, nodes[name].home_party.id, nodes[name].private_key
        )
    for name in names:
        agreements.add(nodes[name], document)
    clear = [TLP_MARKING_ID["clear"]]
    subjects = [
        {"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN, "created": STAMP,
         "modified": STAMP, "name": "Paper Lantern", "object_marking_refs": clear},
        {"type": "intrusion-set", "spec_version": "2.1", "id": APT, "created": STAMP,
         "modified": STAMP, "name": "APT-X", "object_marking_refs": clear},
    ]  # fmt: skip
    ingest.ingest(first, subjects, submitter=first.home_party, path="import")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, LiveNode]]:
    nodes = build(tmp_path, CAST, _populate)
    for node in nodes.values():
        node.start()
    for node in nodes.values():
        node.wait_ready()
    yield nodes
    for node in nodes.values():
        node.stop()


def sync_round(live: dict[str, LiveNode]) -> None:
    for live_node in live.values():
        with live_node.opened() as node:
            results = asyncio.run(sync.sync_all(node, timeout=30, backoff=0.05))
        assert all(r.error is None for r in results), results


def on(live: dict[str, LiveNode], name: str, act: Callable[[Node], str]) -> str:
    with live[name].opened() as node:
        return act(node)


def test_a_joint_attribution_over_loopback(live: dict[str, LiveNode]) -> None:
    case = on(live, "CERT-EU", lambda n: attribution.open_case(n, "inquiry", [CAMPAIGN], ["BSI"]))
    h1 = on(live, "CERT-EU", lambda n: attribution.add_hypothesis(n, case, APT, name="APT-X"))
    e1 = on(live, "CERT-EU", lambda n: attribution.add_evidence(n, case, "B2", "infrastructure"))
    on(live, "CERT-EU", lambda n: attribution.rate(n, case, e1, {h1: "C"}))
    sync_round(live)
    on(live, "BSI", lambda n: attribution.rate(n, case, e1, {h1: "I"}, "high"))
    on(live, "BSI", lambda n: attribution.assess(n, case, h1, "phia", "unlikely", "low", "rented"))
    release_at = time.time_ns() // 1000 + 20_000_000  # ample on a loaded 2-core machine
    sid = on(live, "CERT-EU", lambda n: attribution.draft_statement(
        n, case, "APT-X conducted Paper Lantern.", APT, CAMPAIGN, "icd-203", "likely",
        "moderate", ["BSI"], format_timestamp(release_at)))  # fmt: skip
    on(live, "CERT-EU", lambda n: attribution.sign(n, sid, "sign"))
    sync_round(live)
    on(live, "BSI", lambda n: attribution.sign(n, sid, "sign"))
    sync_round(live)
    # The lead releases through the command line, as an operator would.
    done = cli(live["CERT-EU"].home, "attribution", "release", sid)
    assert done.returncode == 0, done.stderr
    published = set(done.stdout.split())
    sync_round(live)
    assert time.time_ns() // 1000 < release_at, "the rounds must end before the release time"

    with live["CERT-EU"].opened() as node:  # BSI's dissent reached the lead, kept as stated
        [p] = [h for h in attribution.view(node, case, node.home_party).joint.hypotheses]
        assert p.agreement == "one view" and p.sides == {"against": (PARTIES["BSI"][3],)}
    case_ids = {case, h1, e1, sid}
    with live["BSI"].opened() as node:
        assert published | case_ids <= ids(node, "")
    with live["NISC"].opened() as node:
        assert not (published | case_ids) & ids(node, "")

    while time.time_ns() // 1000 <= release_at + 1000:
        time.sleep(0.05)
    sync_round(live)
    with live["NISC"].opened() as node:
        held = ids(node, "")
    assert published <= held
    assert not case_ids & held
