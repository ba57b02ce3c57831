"""Property: no object of an embargoed case ever reaches a non-participant, whatever the order
of events (proposals, acceptances, invitations, answers, statements, statuses, exits)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from cvd_world import World, build, open_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.errors import InvalidInput, NotFound
from kizuna.services import cvd, gate
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion

OTHERS = ("Nippon PLC PSIRT", "CERT-EU", "Mallory")
ops = st.one_of(
    st.tuples(st.just("propose"), st.integers(1, 60)),
    st.tuples(st.sampled_from(["accept", "reject", "exit", "draft", "share", "status"])),
    st.tuples(st.just("invite"), st.sampled_from(OTHERS)),
    st.tuples(st.just("respond"), st.sampled_from(OTHERS), st.booleans()),
    st.tuples(st.just("flag"), st.sampled_from(["vendor-aware", "fix-ready", "exploit-public"])),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from kizuna.services.node import init_node
    from support import FakeClock, SeqIds

    node = init_node(tmp_path_factory.mktemp("cvd-prop") / "node", party_name="BSI",
                     jurisdiction="DE", kind="government", scheme="DE", clock=FakeClock(),
                     new_id=SeqIds("cvd-prop"))  # fmt: skip
    yield build(node)
    node.close()


def every_version(w: World, case_id: str) -> list[StoredVersion]:
    with w.node.db.read() as conn:
        ids = [case_id, *(v.id for v in store.referencing(conn, case_id))]
        return [v for i in ids for v in store.versions_of(conn, i)]


def run(w: World, case_id: str, op: tuple[Any, ...]) -> None:
    n, kind = w.node, op[0]
    if kind == "propose":
        cvd.embargo_propose(n, case_id, days=op[1])
    elif kind == "accept":
        cvd.embargo_accept(n, case_id)
    elif kind == "reject":
        cvd.embargo_reject(n, case_id)
    elif kind == "exit":
        cvd.embargo_exit(n, case_id, "ended")
    elif kind == "draft":
        cvd.statement(n, case_id, "Nippon PLC", "a statement")
    elif kind == "share":
        drafts = [s for s in cvd.show(n, case_id).statements if s["state"] != "shared"]
        for s in drafts[:1]:
            nxt = "approved" if s["state"] == "draft" else "shared"
            cvd.statement_move(n, case_id, s["id"], nxt)
    elif kind == "status":
        cvd.vendor_status(n, case_id, "Nippon PLC", "CVE-2026-40001", "under_investigation")
    elif kind == "invite":
        cvd.invite(n, case_id, op[1])
    elif kind == "respond":
        cvd.respond(n, case_id, w.party[op[1]], accept=op[2])
    elif kind == "flag":
        cvd.case_status(n, case_id, op[1], "seen")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ops, max_size=10))
def test_no_case_object_reaches_a_non_participant(
    world: World, steps: list[tuple[Any, ...]]
) -> None:
    w = world
    case_id = open_case(w)
    for op in steps:
        with contextlib.suppress(InvalidInput, NotFound):
            run(w, case_id, op)  # a refused act changes nothing
        state = cvd.show(w.node, case_id)
        versions = every_version(w, case_id)
        for name in OTHERS:
            party = w.party[name]
            released = {v.id for v, d in gate.judge(w.node, party, versions) if d.released}
            if party.id not in state.members:
                assert not released, (name, op)
            elif state.embargoed:
                # a participant under embargo gets only what carries it (drafts stay home)
                assert case_id in released
