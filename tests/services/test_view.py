"""The view index (services.view) never changes what a partner reads, only what it costs.

Every test compares a partner's paged read (every page, ``added_after``, ``next``, ``more``)
with the unindexed path (``view_world.expected_pages``: every version judged by the gate), as
each input of the gate's decisions changes under it: time passing an embargo's end and an
agreement's validity, agreements suspended and resumed, consents granted, revoked and expiring,
new versions, markings that arrive late, clients, the default TLP, references. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from view_world import FILTERS, HOUR, World, build, expected_pages, read_pages

from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.parties import Party
from kizuna.core.taxii import Query
from kizuna.services import agreements, consents, gate, parties, taxii, view
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import view_keys
from support import backend_url

LIMITS = (1, 3, 50)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with backend_url(request.param) as url:
        made = build(tmp_path / "node", url)
        try:
            yield made
        finally:
            made.node.close()


def assert_exact(w: World, after: int | None = None, limits: tuple[int, ...] = LIMITS) -> None:
    for party in (w.bsi, w.nisc):
        for limit in limits:
            assert read_pages(w.node, party, after, limit) == expected_pages(
                w.node, party, after, limit
            ), (party.name, limit)


def released_in_order(w: World, party: Party, after: int) -> list[str]:
    """The ids ``party`` reads after ``after``, in ``date_added`` order (a batch's versions
    take random dates in its window, so within one batch the order is not the batch's)."""
    pages = read_pages(w.node, party, after, 50)  # may re-date what an ended embargo releases
    with w.node.db.read() as conn:
        rows = {v.date_added: v.id for v in store.scan(conn, FILTERS, after, 10**7)}
    dates = [d for page, _, _ in pages for d in page]
    assert dates == sorted(dates)
    return [rows[d] for d in dates]


def released_ids(w: World, party: Party, after: int) -> list[str]:
    """The ids ``party`` reads after ``after``, sorted."""
    return sorted(released_in_order(w, party, after))


def skips(w: World, party: Party, after: int) -> bool:
    """Whether a page for ``party`` after ``after`` leaves some versions unread."""
    with w.node.db.read() as conn:
        scope = view.scope(w.node, conn, party, gate.context(w.node), FILTERS, after)
    return scope is not None


def test_an_embargo_ends_for_the_index_at_the_moment_it_ends(world: World) -> None:
    mark = world.mark()
    objs = [world.indicator("embargo") for _ in range(5)] + [world.indicator("green")]
    world.store(objs)
    assert released_ids(world, world.bsi, mark) == [objs[-1]["id"]]
    assert skips(world, world.bsi, mark)
    assert_exact(world, mark)
    world.clock.advance(HOUR - 1)  # one µs before the end (the clock stood still until now)
    assert released_ids(world, world.bsi, mark) == [objs[-1]["id"]]
    world.clock.advance(1)
    # The embargoed versions were re-dated when it ended (services.release_times): they
    # re-enter the feed after the one that was released all along.
    got = released_in_order(world, world.bsi, mark)
    assert got[0] == objs[-1]["id"] and sorted(got[1:]) == sorted(o["id"] for o in objs[:-1])
    assert_exact(world, mark)


def test_a_partner_paging_across_an_embargo_end_misses_nothing_and_gets_nothing_twice(
    world: World,
) -> None:
    """TAXII paging holds while ended embargoes re-date versions: a partner paging on with
    ``added_after`` its last ``date_added`` reads every version released to it exactly once."""
    mark = world.mark()
    objs = [world.indicator(m) for m in ("embargo", "green") * 4]
    world.store(objs)
    party, seen = world.bsi, []
    after: int | None = mark
    first = taxii.page(world.node, party, FILTERS, Query(FILTERS, after, 2, None), content=False)
    seen += [r.version for r in first.releases]
    after = first.last_added
    world.clock.advance(HOUR)  # the embargo ends between two pages
    while True:
        p = taxii.page(world.node, party, FILTERS, Query(FILTERS, after, 2, None), content=False)
        seen += [r.version for r in p.releases]
        if p.last_added is not None:
            after = p.last_added
        if not p.more:
            break
    assert sorted(v.id for v in seen) == sorted(o["id"] for o in objs)
    dates = [v.date_added for v in seen]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_an_embargo_participant_reads_what_others_wait_for(world: World) -> None:
    mark = world.mark()
    objs = [world.indicator("embargo-bsi") for _ in range(3)]
    world.store(objs)
    world.clock.advance(2 * HOUR)  # NISC's agreement is in force, the embargo is not over
    assert released_ids(world, world.bsi, mark) == sorted([o["id"] for o in objs])
    assert released_ids(world, world.nisc, mark) == []
    assert_exact(world, mark)
    world.clock.advance(HOUR)
    assert released_ids(world, world.nisc, mark) == sorted([o["id"] for o in objs])
    assert_exact(world, mark)


def test_suspending_and_resuming_an_agreement(world: World) -> None:
    mark = world.mark()
    objs = [world.indicator("green") for _ in range(4)]
    world.store(objs)
    assert released_ids(world, world.bsi, mark) == sorted([o["id"] for o in objs])
    agreements.transition(world.node, world.agreements["eu-de"], "suspend")
    assert released_ids(world, world.bsi, mark) == []
    assert skips(world, world.bsi, mark)
    assert_exact(world, mark)
    agreements.transition(world.node, world.agreements["eu-de"], "resume")
    assert released_ids(world, world.bsi, mark) == sorted([o["id"] for o in objs])
    assert_exact(world, mark)


def test_agreements_start_and_end_with_time(world: World) -> None:
    mark = world.mark()
    objs = [world.indicator("green") for _ in range(3)]
    world.store(objs)
    assert released_ids(world, world.nisc, mark) == []  # eu-jp starts in two hours
    assert_exact(world, mark)
    world.clock.advance(2 * HOUR)
    assert released_ids(world, world.nisc, mark) == sorted([o["id"] for o in objs])
    assert released_ids(world, world.bsi, mark) == sorted([o["id"] for o in objs])
    world.clock.advance(22 * HOUR)  # eu-de's valid_until
    assert released_ids(world, world.bsi, mark) == []
    assert_exact(world, mark)


def bsi_objects(world: World, n: int, marking: str = "green") -> list[dict[str, Any]]:
    """BSI's objects, imported by the home party: onward releases from here."""
    objs = [world.indicator(marking, by=world.bsi) for _ in range(n)]
    world.store(objs)
    return objs


def test_consents_granted_revoked_and_expiring(world: World) -> None:
    world.clock.advance(2 * HOUR)  # eu-jp in force; GREEN still stays in BSI's community
    mark = world.mark()
    objs = bsi_objects(world, 4)
    assert released_ids(world, world.nisc, mark) == []
    assert skips(world, world.nisc, mark)
    consent = consents.grant(
        world.node,
        expires_us=world.clock.us + HOUR,
        types=["indicator"],
        parties=["NISC"],
        originator="BSI",
        private_key=world.keys["BSI"],
    )
    assert released_ids(world, world.nisc, mark) == sorted([o["id"] for o in objs])
    assert_exact(world, mark)
    consents.revoke(world.node, consent.id, private_key=world.keys["BSI"])
    assert released_ids(world, world.nisc, mark) == []
    assert_exact(world, mark)
    consents.grant(
        world.node,
        expires_us=world.clock.us + HOUR,
        types=["indicator"],
        parties=["NISC"],
        originator="BSI",
        private_key=world.keys["BSI"],
    )
    assert released_ids(world, world.nisc, mark) == sorted([o["id"] for o in objs])
    world.clock.advance(HOUR)
    assert released_ids(world, world.nisc, mark) == []
    assert_exact(world, mark)


def test_a_consent_naming_objects_releases_them_from_a_withheld_key(world: World) -> None:
    world.clock.advance(2 * HOUR)
    mark = world.mark()
    objs = bsi_objects(world, 6)
    named = [objs[1]["id"], objs[4]["id"]]
    consents.grant(
        world.node,
        expires_us=world.clock.us + HOUR,
        objects=named,
        parties=["NISC"],
        originator="BSI",
        private_key=world.keys["BSI"],
    )
    assert skips(world, world.nisc, mark)  # the rest of the key is still not read
    assert released_ids(world, world.nisc, mark) == sorted(named)
    assert_exact(world, mark)


def test_a_new_version_moves_the_object_to_its_new_handling(world: World) -> None:
    mark = world.mark()
    first = world.indicator("red")
    world.store([first, world.indicator("red")])
    assert released_ids(world, world.bsi, mark) == []
    world.clock.advance(1000)
    world.store([world.indicator("clear", oid=first["id"])])
    assert released_ids(world, world.bsi, mark) == [first["id"]]
    assert_exact(world, mark)
    world.clock.advance(1000)
    world.store([world.indicator("red", oid=first["id"])])
    assert released_ids(world, world.bsi, mark) == []
    assert_exact(world, mark)


def test_a_marking_that_arrives_late_moves_the_versions_that_waited(world: World) -> None:
    mark = world.mark()
    late = "marking-definition--00000000-0000-4000-8000-00000000e0ff"
    objs = [world.indicator("green") for _ in range(3)]
    for o in objs:
        o["object_marking_refs"] = [TLP_MARKING_ID["green"], late]
    world.store(objs)
    assert released_ids(world, world.bsi, mark) == []  # unresolved: fail closed
    assert skips(world, world.bsi, mark)
    definition = handling_marking(late, "2026-01-01T00:00:00.000Z", world.node.home_party.id)
    world.store([definition])
    assert released_ids(world, world.bsi, mark) == sorted([o["id"] for o in objs] + [late])
    assert_exact(world, mark)


def test_clients_and_the_default_tlp(world: World) -> None:
    mark = world.mark()
    untagged = [world.indicator("none") for _ in range(2)]
    world.store(untagged)
    onward = bsi_objects(world, 2, "amber")
    assert released_ids(world, world.nisc, mark) == []
    world.node.set_setting("default_tlp", "clear")
    assert released_ids(world, world.nisc, mark) == sorted([o["id"] for o in untagged])
    assert_exact(world, mark)
    parties.update_party(world.node, "NISC", client=True)
    assert released_ids(world, world.nisc, mark) == sorted([o["id"] for o in untagged + onward])
    assert_exact(world, mark)


def relationship(w: World, source: str, target: str) -> dict[str, Any]:
    stamp = w.stamp()
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{next(w.serial):08x}-0000-4000-8000-000000000000",
        "created": stamp,
        "modified": stamp,
        "relationship_type": "related-to",
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": w.markings["clear"],
    }


def test_references_that_become_released_release_what_names_them(world: World) -> None:
    mark = world.mark()
    hidden, shown = world.indicator("red"), world.indicator("clear")
    link = relationship(world, shown["id"], hidden["id"])
    world.store([hidden, shown, link])
    assert released_ids(world, world.bsi, mark) == [shown["id"]]  # rule 7 holds the link back
    assert_exact(world, mark)
    world.clock.advance(1000)
    world.store([world.indicator("clear", oid=hidden["id"])])
    assert set(released_ids(world, world.bsi, mark)) == {shown["id"], link["id"], hidden["id"]}
    assert_exact(world, mark)


# A random history: each step changes one input of the gate, and after each the partners'
# views must be exactly what the gate releases, from every position. Embargoes and agreements
# are made afresh with moments ahead of the clock, so time keeps crossing them.
MARKINGS = ("clear", "green", "amber", "amber+strict", "red", "embargo", "embargo-bsi",
            "classified", "consent-only", "none")  # fmt: skip
SECONDS = st.sampled_from([1, 600, 1800, 3600, 3 * 3600, 90000])
steps = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(MARKINGS), st.integers(1, 4), st.booleans()),
    st.tuples(st.just("embargo"), SECONDS, st.booleans(), st.integers(1, 3)),
    st.tuples(st.just("version"), st.sampled_from(MARKINGS), st.integers(0, 50)),
    st.tuples(st.just("link"), st.integers(0, 50), st.integers(0, 50)),
    st.tuples(st.just("agreement"), st.sampled_from(["eu-de", "eu-jp"])),
    st.tuples(st.just("new-agreement"), st.sampled_from(["BSI", "NISC"]), SECONDS, SECONDS),
    st.tuples(st.just("consent"), st.sampled_from(["BSI", "NISC"]), st.booleans(), SECONDS),
    st.tuples(st.just("revoke")),
    st.tuples(st.just("advance"), SECONDS),
    st.tuples(st.just("client"), st.booleans()),
)


def apply(w: World, step: tuple[Any, ...], made: list[dict[str, Any]], granted: list[str]) -> None:
    kind = step[0]
    if kind == "add":
        _, marking, n, by_bsi = step
        objs = [w.indicator(marking, by=w.bsi if by_bsi else None) for _ in range(n)]
        w.store(objs)
        made.extend(objs)
    elif kind == "embargo":
        _, seconds, bsi_takes_part, n = step
        name = w.embargo(seconds * 10**6, [w.bsi] if bsi_takes_part else [])
        objs = [w.indicator(name) for _ in range(n)]
        w.store(objs)
        made.extend(objs)
    elif kind == "version" and made:
        old = made[step[2] % len(made)]
        w.clock.advance(1000)
        new = w.indicator(step[1], oid=old["id"])
        if old.get("created_by_ref"):
            new["created_by_ref"] = old["created_by_ref"]
        w.store([new])
    elif kind == "link" and made:
        w.store([relationship(w, made[step[1] % len(made)]["id"], made[step[2] % len(made)]["id"])])
    elif kind == "agreement":
        agreement_id = w.agreements[step[1]]
        state = agreements.get(w.node, agreement_id).agreement.state
        if state in ("active", "suspended"):
            agreements.transition(
                w.node, agreement_id, "suspend" if state == "active" else "resume"
            )
    elif kind == "new-agreement":
        _, member, starts, lasts = step
        w.agree(member, w.clock.us + starts * 10**6, w.clock.us + (starts + lasts) * 10**6)
    elif kind == "consent":
        _, to, by_id, lasts = step
        named = [o["id"] for o in made if o.get("created_by_ref") == w.bsi.id][:2]
        granted.append(
            consents.grant(
                w.node,
                expires_us=w.clock.us + lasts * 10**6,
                objects=named if by_id and named else (),
                types=() if by_id and named else ["indicator", "relationship"],
                parties=[to],
                originator="BSI",
                private_key=w.keys["BSI"],
            ).id
        )
    elif kind == "revoke" and granted:
        consents.revoke(w.node, granted.pop(), private_key=w.keys["BSI"])
    elif kind == "advance":
        w.clock.advance(step[1] * 10**6)
    elif kind == "client":
        parties.update_party(w.node, "NISC", client=step[1])


@settings(
    max_examples=min(settings().max_examples, 100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(steps, min_size=1, max_size=16), data=st.data())
def test_any_history_reads_exactly_what_the_gate_releases(
    world: World, history: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    mark = world.mark()
    made: list[dict[str, Any]] = []
    granted: list[str] = []
    for step in history:
        apply(world, step, made, granted)
        with world.node.db.read() as conn:
            dates = [v.date_added for v in store.scan(conn, FILTERS, mark, 10**7)]
        # The world outlives one example and ended embargoes re-date earlier examples'
        # versions past ``mark``: draw a position whose shape does not depend on how many.
        positions = [mark, *dates]
        after = positions[data.draw(st.integers(0, 10**6)) % len(positions)]
        limit = data.draw(st.sampled_from(LIMITS))
        assert_exact(world, after, (limit,))


def test_the_index_remembers_only_what_the_gate_decided(world: World) -> None:
    """Every key skipped for a party is one ``gate.decide_alike`` withholds from it now."""
    mark = world.mark()
    world.store([world.indicator(m) for m in MARKINGS])
    bsi_objects(world, 2, "amber")
    for party in (world.bsi, world.nisc):
        ctx = gate.context(world.node)
        with world.node.db.read() as conn:
            scope = view.scope(world.node, conn, party, ctx, FILTERS, mark)
            keys = view_keys.load(conn, view_keys.added_after(conn, mark)).values()
        assert scope is not None
        read = set(scope.keys)
        for key in keys:
            withheld = not gate.decide_alike(world.node, party, key, ctx).released
            assert (key.id not in read) == withheld, (party.name, key)


def test_a_version_is_keyed_by_everything_the_gate_reads_of_it(sqlite_node: Node) -> None:
    """The gate's subject of a version depends on its key's columns and its id, nothing else:
    two versions alike in those are decided alike (what services.view relies on)."""
    base = store.StoredVersion(
        date_added=1,
        id="indicator--00000000-0000-4000-8000-000000000001",
        type="indicator",
        modified=1,
        spec_version="2.1",
        source="identity--a",
        submitted_by="identity--b",
        path="taxii",
        first_hop=False,
        handling='{"tlp":"amber"}',
        refs="",
        digest="d",
        content=b"{}",
    )
    keyed = {"type", "source", "submitted_by", "first_hop", "handling", "id"}
    subject = gate.subject_of(sqlite_node, base)
    for f in dataclasses.fields(base):
        if f.name in keyed:
            continue
        value = getattr(base, f.name)
        other: Any = (
            (not value)
            if isinstance(value, bool)
            else value + 1
            if isinstance(value, int)
            else value + "x"
            if isinstance(value, str)
            else b'{"x":1}'
        )
        changed = gate.subject_of(sqlite_node, dataclasses.replace(base, **{f.name: other}))
        assert changed == subject, f"the gate reads {f.name}: add it to the view key"
    assert store.key_parts(base) == (
        base.type,
        base.source,
        base.submitted_by,
        False,
        base.handling,
    )
