"""Five parties, eleven agreements, a few hundred objects: each TAXII view is what the rules say.

The world is built in ``trust_world`` (a hub node, its parties, agreements, objects and consents);
each party reads the "released to you" collection with the OASIS taxii2-client in small pages
from a real uvicorn server, and what arrives is compared with an independent oracle of DESIGN.md's
rules (``tests/oracle.py``): the set of ids (derivatives under their deterministic new ids), each
object's content, the absence of every withheld id from the bytes, seals, the ledger, and the
truthfulness of ``more``/``next``. A last test proves the scenario is sharp: switching off any one
condition of the oracle changes some party's view.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from trust_world import (
    AID,
    FILTER_TYPES,
    FILTERED,
    HOME,
    OBSERVER,
    VIEWERS,
    Scenario,
    build_scenario,
)

from kizuna.core.consents import CONSENT_TYPE
from kizuna.core.redaction import DERIVATIVE_EXTENSION
from kizuna.services import agreements, parties
from oracle import Oracle, mentioned_ids

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    sc, server, thread = build_scenario(Path(tmp_path_factory.mktemp("hub")))
    try:
        yield sc
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sc.node.close()


# -- reading what arrived -----------------------------------------------------------------------

SEAL = "x-kizuna-seal"


@dataclass
class View:
    """What one read over TAXII brought (seals aside): objects by released id."""

    objects: dict[str, dict[str, Any]]
    original: dict[str, str]  # released id -> the id of the object it was made from


def party_of(view: str) -> str:
    return OBSERVER if view == FILTERED else view


def arrived(sc: Scenario, view: str) -> View:
    everything = [o for page in sc.pages[view] for o in page.get("objects", [])]
    objects = [o for o in everything if o["type"] != SEAL]
    by_id = {o["id"]: o for o in objects}
    assert len(by_id) == len(objects), f"{view} received an object twice"
    original = {
        i: ((o.get("extensions") or {}).get(DERIVATIVE_EXTENSION) or {}).get("derived_from", i)
        for i, o in by_id.items()
    }
    return View(by_id, original)


def oracle(sc: Scenario) -> Oracle:
    assert sc.oracle is not None
    return sc.oracle


def predicted(sc: Scenario, view: str) -> dict[str, str]:
    """Original id -> released id, for everything the oracle releases to the view's party."""
    o, pid = oracle(sc), sc.pid(party_of(view))
    out = {i: o.released_id(i, pid) for i in o.objects if o.outcome(i, pid).released}
    if view == FILTERED:
        out = {i: r for i, r in out.items() if o.objects[i].type in FILTER_TYPES}
    return out


def got(sc: Scenario, view: str) -> dict[str, str]:
    """Original id -> released id, as received."""
    v = arrived(sc, view)
    out = {orig: rid for rid, orig in v.original.items()}
    assert len(out) == len(v.original), f"{view} received two forms of one object"
    return out


def focus(sc: Scenario, view: str) -> tuple[set[str], set[str]]:
    """(containers that lose a ref only through that ref's own refs, consents), for the view.

    Both are held to the oracle with everything else, and again in tests of their own, so a
    failure there says which part of rule 7 broke.
    """
    o, pid = oracle(sc), sc.pid(party_of(view))
    nested = {i for i in o.objects if o.nested(i, pid)}
    consents = {i for i, x in o.objects.items() if x.type == CONSENT_TYPE}
    return nested, consents


def mismatches(sc: Scenario, view: str, among: set[str] | None) -> dict[str, tuple[Any, Any, str]]:
    want, have = predicted(sc, view), got(sc, view)
    o, pid = oracle(sc), sc.pid(party_of(view))
    unknown = sorted(set(have) - set(o.objects))
    assert unknown == [], f"{view} received objects the node should not hold: {unknown}"
    out = {}
    for i in set(want) | set(have):
        if (among is None or i in among) and want.get(i) != have.get(i):
            out[i] = (want.get(i), have.get(i), o.outcome(i, pid).why)
    return out


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", [*VIEWERS, FILTERED])
def test_each_party_receives_exactly_what_the_rules_predict(scenario: Scenario, view: str) -> None:
    """Each original arrives under the id the oracle predicts (a derivative's new id), or not."""
    assert mismatches(scenario, view, None) == {}
    assert len(predicted(scenario, view)) > 5


@pytest.mark.parametrize("view", VIEWERS)
def test_containers_leave_out_refs_withheld_through_their_own_refs(
    scenario: Scenario, view: str
) -> None:
    """Rule 7 across two levels: a report loses a relationship whose end is withheld.

    (Found failing on 2026-11-27: gate.judge decided references one level deep; now fixed.)
    """
    nested, _ = focus(scenario, view)
    assert nested or view in (HOME, OBSERVER)
    assert mismatches(scenario, view, nested) == {}


@pytest.mark.parametrize("view", VIEWERS)
def test_consents_reach_only_their_originator_and_the_holders_they_notify(
    scenario: Scenario, view: str
) -> None:
    """A consent is a federation message: for the holders it notifies, and rule 7 holds for it."""
    _, consents = focus(scenario, view)
    assert mismatches(scenario, view, consents) == {}
    o, pid = oracle(scenario), scenario.pid(party_of(view))
    notified = [i for i in consents if pid in o.objects[i].content.get("notify", ())]
    if view in ("ACSC", "NISC"):
        assert notified, f"no consent notifies {view}: the scenario does not exercise it"


@pytest.mark.parametrize("view", VIEWERS)
def test_released_content_is_the_original_less_what_was_withheld(
    scenario: Scenario, view: str
) -> None:
    """Whole objects arrive byte-for-byte as stored; derivatives without what was taken out."""
    from kizuna.core.redaction import profile_name

    o, pid = oracle(scenario), scenario.pid(party_of(view))
    v = arrived(scenario, view)
    derivatives = 0
    for rid, obj in v.objects.items():
        orig = v.original[rid]
        if o.released_id(orig, pid) != rid:
            continue  # reported by test_each_party_receives_exactly_what_the_rules_predict
        out = o.outcome(orig, pid)
        body = dict(obj)
        extensions = dict(body.pop("extensions", {}))
        ext = extensions.pop(DERIVATIVE_EXTENSION, None)
        if extensions:
            body["extensions"] = extensions
        expected = {**o.expected_content(orig, pid), "id": rid}
        assert body == expected, rid
        if not out.derived:
            assert ext is None, rid
            continue
        derivatives += 1
        assert ext is not None, rid
        assert ext["derived_from"] == orig
        assert ext["derived_from_version"] == o.objects[orig].content["modified"]
        assert ext["profile"] == profile_name(out.profiles, out.dropped_refs)  # type: ignore[arg-type]
        for profile in out.profiles:
            assert not set(profile.removes(obj["type"])) & set(obj), rid
    if view in ("Hafen Logistik", "ACSC", "NISC"):
        assert derivatives > 0


def _own_mentions(sc: Scenario, pid: str) -> set[str]:
    """Ids named in the party's own objects: rule 1 gives them back whole, ids and all."""
    o = oracle(sc)
    return {r for x in o.objects.values() if x.source == pid for r in mentioned_ids(x.content)}


@pytest.mark.parametrize("view", [*VIEWERS, FILTERED])
def test_no_withheld_id_appears_in_the_bytes(scenario: Scenario, view: str) -> None:
    """Rule 7: nothing a party receives names an object withheld from it, anywhere."""
    o, pid = oracle(scenario), scenario.pid(party_of(view))
    secret = o.withheld(pid) - _own_mentions(scenario, pid)
    assert secret or view == HOME
    leaks = {}
    for url, body in scenario.raw[view]:
        assert set(orjson.loads(body)) <= {"more", "next", "objects"}
        found = sorted(i for i in secret if i.encode() in body)
        if found:
            leaks[url] = found
    assert leaks == {}


@pytest.mark.parametrize("view", [*VIEWERS, FILTERED])
def test_paging_is_truthful(scenario: Scenario, view: str) -> None:
    """Pages within limit, ``more`` true exactly until the last, a ``next`` with every ``more``."""
    from urllib.parse import parse_qs, urlsplit

    pages, raw = scenario.pages[view], scenario.raw[view]
    assert len(pages) == len(raw) > 2
    for n, (page, (url, _)) in enumerate(zip(pages, raw, strict=True)):
        last = n == len(pages) - 1
        limit = int(parse_qs(urlsplit(url).query)["limit"][0])
        assert 0 < len(page.get("objects", [])) <= limit, (n, url)
        assert page.get("more", False) is not last, (n, url)
        assert ("next" in page) is not last, (n, url)
        if n:
            assert parse_qs(urlsplit(url).query)["next"] == [pages[n - 1]["next"]]
    if view == FILTERED:
        held = [x for x in oracle(scenario).objects.values() if x.type in FILTER_TYPES]
        assert len(predicted(scenario, view)) < len(held) / 3  # most are withheld


@pytest.mark.parametrize("view", [v for v in VIEWERS if v != HOME])
def test_seals_travel_with_derivatives_and_the_hubs_own_objects(
    scenario: Scenario, view: str
) -> None:
    """Rule 8: a derivative carries the releasing node's seal; every seal verifies."""
    from kizuna.core import seals

    o, home = oracle(scenario), scenario.pid(HOME)
    keys = {p.id: p.public_keys for p in parties.all_parties(scenario.node)}
    sealed = set()
    for page in scenario.pages[view]:
        in_page = {x["id"]: x for x in page.get("objects", []) if x["type"] != SEAL}
        for s in (x for x in page.get("objects", []) if x["type"] == SEAL):
            seal = seals.parse(s)
            assert seal.object_id in in_page, "a seal travels with its object"
            seals.verify(seal, in_page[seal.object_id], keys[seal.signer])
            sealed.add(seal.object_id)
    v = arrived(scenario, view)
    derived = {rid for rid, orig in v.original.items() if rid != orig}
    hubs = {rid for rid, orig in v.original.items() if o.objects[orig].source == home}
    assert derived <= sealed
    assert derived or view == OBSERVER
    assert hubs - sealed == set()


def test_the_node_holds_the_agreements_in_the_states_the_oracle_assumes(scenario: Scenario) -> None:
    now = scenario.clock.us
    stored = {s.agreement.id: s.agreement for s in agreements.list_all(scenario.node)}
    for a in oracle(scenario).agreements:
        assert (stored[a.id].inactive_reason(now) is None) is a.active(now), a.id
        assert stored[a.id].state == a.state, a.id


CONDITIONS = [
    "embargo", "references", "public", "listed", "red-listed", "tlp-onward", "client-exception",
    "lifecycle", "tlp-allowed", "green", "classification", "max-rank", "partial",
    "no-onward", "pre-consent", "third-party", "onward-clause", "drop", "redaction",
    "stricter", "consent-lists", "client-consent",
    "whole-first",
]  # fmt: skip


def test_the_scenario_exercises_every_rule(scenario: Scenario) -> None:
    """Each condition of each rule decides something here, as does every agreement and consent.

    Switching one condition off in the oracle (or removing, or reviving, one agreement or
    consent) must change what some party receives: so a gate that got that condition wrong
    would fail the comparison above.
    """
    o = oracle(scenario)
    pids = [scenario.pid(n) for n in VIEWERS]
    base = o.releases(pids)
    idle = [c for c in CONDITIONS if o.variant(off=frozenset({c})).releases(pids) == base]
    assert idle == []
    for a in o.agreements:
        if a.active(o.now):
            world = o.variant(agreements=tuple(x for x in o.agreements if x != a))
            assert world.releases(pids) != base, f"agreement {a.id} decides nothing"
        else:
            alive = dataclasses.replace(a, signed_by_all=True, state="active", valid_from=0)
            alive = dataclasses.replace(alive, valid_until=None)
            world = o.variant(agreements=tuple(alive if x == a else x for x in o.agreements))
            assert world.releases(pids) != base, f"inactive agreement {a.id} would decide nothing"
    for c in o.consents:
        if c.originator == o.home:
            continue  # a message to the holders of first-hop objects: it decides nothing here
        if not c.revoked and c.expires > o.now and c.agreements != {AID["de-au"]}:
            world = o.variant(consents=tuple(x for x in o.consents if x != c))
            assert world.releases(pids) != base, f"consent {c} decides nothing"
        else:
            members = {m for x in o.agreements if x.id in c.agreements for m in x.parties}
            alive_consent = dataclasses.replace(
                c, revoked=False, expires=o.now * 2, parties=c.parties | members
            )
            world = o.variant(consents=tuple(alive_consent if x == c else x for x in o.consents))
            assert world.releases(pids) != base, f"inactive consent {c} would decide nothing"


def test_every_release_is_in_the_ledger_and_the_ledger_verifies(scenario: Scenario) -> None:
    """What each party received over TAXII is recorded, under its released id, and intact."""
    from kizuna.services import ledger

    entries = ledger.show(scenario.node)
    for view in [v for v in VIEWERS if v != HOME]:
        pid = scenario.pid(view)
        recorded = {e.released_id for e in entries if e.recipient == pid}
        assert set(arrived(scenario, view).objects) <= recorded, view
    assert not [e for e in entries if e.recipient == scenario.pid(HOME)]
    assert ledger.verify(scenario.node).intact
