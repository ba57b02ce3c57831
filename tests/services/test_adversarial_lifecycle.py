"""Adversarial property (issue 14): lifecycle notices (suspend, resume, terminate) count only when
signed by a party of the agreement version with a key the node trusts. Whatever notice a hostile
peer (Mallory, party to agreement B only) sends for agreement A between CERT-EU, BSI and NISC
(unsigned, under its own key claiming to be BSI, with a made-up key, BSI's genuine notice
altered after signing, one for another version or agreement), it is refused with its reason and
no party's view and no agreement's state changes. Genuine notices: a party's suspension stands
until that party resumes, and a replayed older notice changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreement_world import World, build, views
from kizuna.core import agreement_lifecycle as core
from kizuna.core.signing import canonical, key_id, public_key_of, sign
from kizuna.errors import InvalidInput
from kizuna.services import agreement_lifecycle, agreements
from kizuna.services.node import init_node, new_private_key
from support import FakeClock, SeqIds

INVENTED = "identity--e1e1e1e1-0000-4000-8000-000000000077"


def make_world(home: Path) -> World:
    node = init_node(
        home,
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        clock=FakeClock(),
        new_id=SeqIds("lifecycle"),
    )
    return build(node)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Any]]:
    world = make_world(Path(tmp_path_factory.mktemp("arena")))
    yield world, views(world.node)
    world.node.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path / "node")
    yield world
    world.node.close()


@st.composite
def attempts(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "target": draw(st.sampled_from(["a", "b"])),
        "version": draw(st.sampled_from([1, 1, 2])),
        "action": draw(st.sampled_from([*core.ACTIONS, "pause"])),
        "claims": draw(st.sampled_from(["CERT-EU", "BSI", "NISC", "Mallory", "invented"])),
        "key": draw(st.sampled_from(["mallory", "made-up", "none", "bsi-then-altered"])),
        "alter": draw(st.sampled_from(["action", "agreement", "version", "issued", "party"])),
    }


def forge(world: World, attempt: dict[str, Any]) -> dict[str, Any]:
    party = {
        "CERT-EU": world.node.home_party.id,
        "invented": INVENTED,
        **{n: p.id for n, p in world.party.items()},
    }[attempt["claims"]]
    body: dict[str, Any] = {
        "type": core.NOTICE_TYPE,
        "agreement": world.a if attempt["target"] == "a" else world.b,
        "version": attempt["version"],
        "action": attempt["action"],
        "party": party,
        "issued": "2027-01-01T00:00:00Z",
    }
    if attempt["key"] == "none":
        return body  # unsigned
    if attempt["key"] == "bsi-then-altered":
        # BSI's genuine notice (of A, say), then changed by whoever relays it.
        genuine = {**body, "agreement": world.a, "version": 1, "party": world.party["BSI"].id}
        genuine["action"] = "resume"
        private = world.keys["BSI"]
        genuine["key_id"] = key_id(public_key_of(private))
        genuine["signature"] = sign(private, core.payload(genuine))
        changed = {
            "action": "suspend",
            "agreement": world.b,
            "version": 2,
            "issued": "2027-01-02T00:00:00Z",
            "party": world.party["NISC"].id,
        }
        return {**genuine, attempt["alter"]: changed[attempt["alter"]]}
    private = world.keys["Mallory"] if attempt["key"] == "mallory" else new_private_key()
    body["key_id"] = key_id(public_key_of(private))
    body["signature"] = sign(private, canonical(body))
    return body


def mallory_may(world: World, attempt: dict[str, Any], notice: dict[str, Any]) -> bool:
    """The one kind of notice that counts: Mallory's own, under its own key, for B v1."""
    return (
        attempt["key"] == "mallory"
        and attempt["claims"] == "Mallory"
        and notice["agreement"] == world.b
        and notice["version"] == 1
        and notice["action"] in core.ACTIONS
    )


@settings(
    max_examples=min(settings().max_examples, 40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(attempts())
def test_no_lifecycle_notice_a_hostile_peer_forges_changes_any_state_or_view(
    arena: tuple[World, Any], attempt: dict[str, Any]
) -> None:
    world, before = arena
    notice = forge(world, attempt)
    if mallory_may(world, attempt, notice):
        return  # Mallory may suspend its own agreement B: that is its right, not an attack
    states = {a: agreements.get(world.node, a).agreement.state for a in (world.a, world.b)}
    with pytest.raises(InvalidInput) as refused:
        agreement_lifecycle.apply(world.node, notice, source="sync from Mallory")
    assert "notice" in refused.value.message or "no agreement" in refused.value.message
    assert {a: agreements.get(world.node, a).agreement.state for a in states} == states
    assert views(world.node) == before


def test_a_suspension_stands_until_its_party_resumes_and_replays_change_nothing(
    fresh: World,
) -> None:
    world, node = fresh, fresh.node
    a = agreements.get(node, world.a).agreement
    nisc_sees = views(node)["NISC"]
    assert nisc_sees

    def by(name: str, action: str, at: int) -> dict[str, Any]:
        return core.make(a, action, world.party[name].id, world.keys[name], at)

    suspended = by("BSI", "suspend", 1_800_000_000_000_000)
    assert agreement_lifecycle.apply(node, suspended, source="sync from BSI")
    assert agreements.get(node, world.a).agreement.state == "suspended"
    assert views(node)["NISC"] != nisc_sees  # nothing goes to NISC under A any more
    # NISC cannot lift BSI's suspension; neither can this node's own operator.
    agreement_lifecycle.apply(node, by("NISC", "resume", 1_800_000_000_000_001))
    assert agreements.get(node, world.a).agreement.state == "suspended"
    # BSI resumes: in force again. BSI's old suspension, replayed, is held already.
    agreement_lifecycle.apply(node, by("BSI", "resume", 1_800_000_000_000_002))
    assert agreements.get(node, world.a).agreement.state == "active"
    assert views(node)["NISC"] == nisc_sees
    assert not agreement_lifecycle.apply(node, suspended, source="replayed by Mallory")
    assert agreements.get(node, world.a).agreement.state == "active"
    # A termination by any party is final.
    agreement_lifecycle.apply(node, by("NISC", "terminate", 1_800_000_000_000_003))
    agreement_lifecycle.apply(node, by("NISC", "resume", 1_800_000_000_000_004))
    assert agreements.get(node, world.a).agreement.state == "terminated"
