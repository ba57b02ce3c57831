"""Federation faults, three nodes in one process (httpx.ASGITransport, faults wrapped around it).

A peer that stalls, a peer that sends garbage, a seal that is forged, corrupted or missing, a
page that is replayed. Each test then recovers and checks the federation's holdings three ways:
the ids written out by hand in ``scenario``, exactly one stored row per (id, modified), and the
fixed point of the gates (what each node holds is its own plus what its peers release to it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from faults import (
    Canned,
    Doubled,
    Objects,
    Replay,
    Rewrite,
    Stall,
    Truncate,
    Wrapper,
    ids,
    quarantined,
    received_from,
    sealed_by,
    seals_kept,
    versions,
)
from federation_kit import Federation
from scenario import (
    Published,
    agree_everywhere,
    gate_prediction,
    indicator,
    publish,
    publish_scenario,
    released_up_to,
)

from kizuna.cli.main import cli
from kizuna.core import seals as core_seals
from kizuna.core import signing
from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.seals import SEAL_TYPE
from kizuna.http.app import create_app
from kizuna.services import consents, explain, parties, peers, sync, tokens
from kizuna.services.node import Node, new_private_key
from kizuna.storage.peers import PeerRecord

NAMES = ["CERT-EU", "BSI", "NISC"]
TAXII_JSON = {"content-type": "application/taxii+json;version=2.1"}


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # 16 per request: the peer sends 8 objects and their 8 seals a page, so a sync is many pages.
    monkeypatch.setattr(sync, "PAGE", 16)


@pytest.fixture
def three(federation: Callable[[list[str]], Federation]) -> Iterator[tuple[Federation, Published]]:
    fed = federation(NAMES)
    agree_everywhere(fed.nodes)
    yield fed, publish_scenario(fed.nodes)


def run(fed: Federation, name: str, **kwargs: Any) -> dict[str, sync.PeerResult]:
    """One ``sync_all`` of one node; a hang fails the test instead of hanging it."""

    async def go() -> list[sync.PeerResult]:
        return await asyncio.wait_for(
            sync.sync_all(fed.nodes[name], transports=fed.transports(name), backoff=0.01, **kwargs),
            timeout=30,
        )

    return {r.peer: r for r in asyncio.run(go())}


def converge(fed: Federation, rounds: int = 2) -> None:
    for _ in range(rounds):
        for name in fed.nodes:
            for peer, result in run(fed, name).items():
                assert result.error is None, (name, peer, result.error)


def assert_holdings(fed: Federation, published: Published, expected: dict[str, set[str]]) -> None:
    """Nothing lost, nothing duplicated, nothing leaked."""
    for name, node in fed.nodes.items():
        held = ids(node, "indicator--")
        assert held - expected[name] == set(), f"{name} holds what it must not"
        assert expected[name] - held == set(), f"{name} lacks what it must hold"
        assert max(versions(node).values()) == 1, f"{name} stores a version twice"
        assert ids(node) == gate_prediction(fed.nodes, name), name
        for oid in held - quarantined(node).keys():
            origin = next(n for n in NAMES if oid in _originated(published, n))
            assert fed.nodes[origin].home_party.id in sealed_by(node, oid), (name, oid)


def _originated(p: Published, name: str) -> set[str]:
    return {
        "CERT-EU": {*p.green, *p.strict, *p.red},
        "BSI": set(p.bsi_green),
        "NISC": set(p.nisc_green),
    }[name]


def expected_all(p: Published) -> dict[str, set[str]]:
    return {n: p.expected(n) for n in NAMES}


def peer_of(node: Node, name: str) -> PeerRecord:
    return peers.find(node, name)


def api_peers(node: Node) -> dict[str, dict[str, Any]]:
    """``GET /api/peers`` as the node's home party, by peer party name."""
    token = tokens.create(node, node.home_party.id, "test").value
    with TestClient(create_app(node)) as client:
        response = client.get("/api/peers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return {p["party_name"]: p for p in response.json()}


def cli_peer_list(node: Node) -> str:
    result = CliRunner().invoke(
        cli, ["--home", str(node.home), "peer", "list"], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_scenario_converges_exactly(three: tuple[Federation, Published]) -> None:
    fed, published = three
    converge(fed)
    assert_holdings(fed, published, expected_all(published))
    # The hand-made table, spelled out once more for the RED objects: BSI only.
    for oid in published.red:
        assert oid in ids(fed.nodes["BSI"]) and oid not in ids(fed.nodes["NISC"])


# A peer that times out.


def test_a_stalled_peer_times_out_and_holds_up_no_other(
    three: tuple[Federation, Published],
) -> None:
    fed, published = three
    bsi = fed.nodes["BSI"]
    fed.wrappers[("BSI", "NISC")] = lambda _me, _to, inner: Stall(inner)
    finished: dict[str, float] = {}
    start = time.monotonic()

    def progress(peer: str, _n: int) -> None:
        finished[peer] = time.monotonic() - start

    timeout = 1.0
    results = run(fed, "BSI", timeout=timeout, progress=progress)
    elapsed = time.monotonic() - start

    assert results["CERT-EU"].error is None
    assert results["CERT-EU"].stored > 0
    # CERT-EU's pages were all in before the stalled peer's first request even timed out.
    assert finished["CERT-EU"] < timeout
    assert "NISC" not in finished
    assert results["NISC"].error is not None and "timed out" in results["NISC"].error
    # Every attempt is cut off at the timeout: the run ends, however long the peer would stall.
    assert elapsed < sync.ATTEMPTS * timeout + 2
    assert ids(bsi, "indicator--") >= {*published.green, *published.strict, *published.red}
    assert ids(bsi, "indicator--").isdisjoint(published.nisc_green)
    record = peer_of(bsi, "NISC")
    assert record.cursor is None and record.failures == 1
    assert "timed out" in (record.last_error or "")
    shown = api_peers(bsi)
    assert "timed out" in shown["NISC"]["last_error"] and shown["NISC"]["cursor"] is None
    assert shown["CERT-EU"]["last_error"] is None and shown["CERT-EU"]["cursor"] is not None
    listing = cli_peer_list(bsi)
    assert "timed out" in listing and "(1x)" in listing

    del fed.wrappers[("BSI", "NISC")]
    converge(fed)
    assert_holdings(fed, published, expected_all(published))
    assert peer_of(bsi, "NISC").last_error is None


# A peer that returns garbage.

HTML = b"<!doctype html><html><body><h1>Maintenance</h1></body></html>"
Bad = Callable[[httpx.AsyncBaseTransport], Wrapper]


def _canned(status: int, body: bytes, headers: dict[str, str] | None = None) -> Bad:
    return lambda inner: Canned(inner, status, body, headers or TAXII_JSON)


GARBAGE: dict[str, Bad] = {
    "html-200": _canned(200, HTML, {"content-type": "text/html"}),
    "not-json": _canned(200, b"\x00\xffnot json at all {"),
    "json-list": _canned(200, b"[1, 2, 3]"),
    "objects-not-a-list": _canned(200, b'{"objects": "all of them", "more": false}'),
    "objects-not-objects": _canned(200, b'{"objects": [1, "two", null], "more": true}'),
    "truncated-body": Truncate,
    "http-500": _canned(500, b"Internal Server Error", {"content-type": "text/plain"}),
    "http-502-html": _canned(502, HTML, {"content-type": "text/html"}),
    "bad-date-header": _canned(
        200, b'{"objects": [], "more": true}', {**TAXII_JSON, "X-TAXII-Date-Added-Last": "never"}
    ),
}


class _After(Wrapper):
    """The real peer for the first ``after`` pulls, then the bad one (for every retry too)."""

    def __init__(self, after: int, bad: Wrapper, inner: httpx.AsyncBaseTransport) -> None:
        super().__init__(inner)
        self.after, self.bad = after, bad

    async def pull(self, request: httpx.Request) -> httpx.Response:
        if self.pulls <= self.after:
            return await super().pull(request)
        return await self.bad.pull(request)


def _sync_through_garbage(
    fed: Federation, published: Published, bad: Bad, after: int, kind: str
) -> None:
    """BSI syncs while CERT-EU turns bad after ``after`` good pages; what must hold then."""
    bsi, eu = fed.nodes["BSI"], fed.nodes["CERT-EU"]
    failures = peer_of(bsi, "CERT-EU").failures
    fed.wrappers[("BSI", "CERT-EU")] = lambda _me, _to, inner: _After(after, bad(inner), inner)
    cursor = peer_of(bsi, "CERT-EU").cursor
    results = run(fed, "BSI")
    del fed.wrappers[("BSI", "CERT-EU")]

    assert results["CERT-EU"].error is not None, kind
    assert results["NISC"].error is None, kind  # the other peer synced in the same run
    record = peer_of(bsi, "CERT-EU")
    assert record.failures == failures + 1, kind
    assert api_peers(bsi)["CERT-EU"]["last_error"] == results["CERT-EU"].error, kind
    # Exactly what came in the good pages before the garbage is stored, and the cursor says so.
    assert (record.cursor == cursor) == (after == 0), kind
    from_eu = {*published.green, *published.strict, *published.red}
    expected = {oid for oid, _ in released_up_to(eu, "BSI", record.cursor)} & from_eu
    assert ids(bsi) & from_eu == expected, kind
    assert max(versions(bsi).values()) == 1, kind


def test_a_peer_that_sends_garbage_gives_nothing(three: tuple[Federation, Published]) -> None:
    fed, published = three
    for kind, bad in GARBAGE.items():
        _sync_through_garbage(fed, published, bad, 0, kind)
    assert peer_of(fed.nodes["BSI"], "CERT-EU").cursor is None
    converge(fed)
    assert_holdings(fed, published, expected_all(published))
    assert peer_of(fed.nodes["BSI"], "CERT-EU").failures == 0


@pytest.mark.parametrize("kind", ["not-json", "truncated-body", "http-500"])
def test_garbage_after_good_pages_keeps_what_was_committed(
    three: tuple[Federation, Published], kind: str
) -> None:
    fed, published = three
    _sync_through_garbage(fed, published, GARBAGE[kind], 2, kind)
    converge(fed)
    assert_holdings(fed, published, expected_all(published))


def test_objects_that_are_not_valid_stix_are_refused_one_by_one(
    three: tuple[Federation, Published],
) -> None:
    fed, published = three
    bsi = fed.nodes["BSI"]

    def spoil(objects: Objects) -> Objects:
        # Every indicator loses its pattern: each is refused, its seal then seals nothing.
        return [{k: v for k, v in o.items() if k != "pattern"} for o in objects]

    fed.wrappers[("BSI", "CERT-EU")] = lambda _me, _to, inner: Rewrite(inner, spoil)
    results = run(fed, "BSI")
    assert results["CERT-EU"].error is None
    from_eu = {*published.green, *published.strict, *published.red}
    assert ids(bsi).isdisjoint(from_eu)
    assert seals_kept(bsi, from_eu) == 0
    assert max(versions(bsi).values()) == 1


# Seals: forged, corrupted, missing.


def _flip(text: str) -> str:
    """The same base64url text with one bit of its first byte flipped."""
    raw = bytearray(signing.unb64(text))
    raw[0] ^= 0x01
    return signing.b64(bytes(raw))


def _flip_hex(digest: str) -> str:
    head, _, hexes = digest.rpartition(":")
    flipped = format(int(hexes[-1], 16) ^ 1, "x")
    return f"{head}:{hexes[:-1]}{flipped}" if head else hexes[:-1] + flipped


def _reseal(target: str, signer: str, key: bytes) -> Callable[[Objects], Objects]:
    def change(objects: Objects) -> Objects:
        obj = next((o for o in objects if o.get("id") == target), None)
        if obj is None:
            return objects
        forged = core_seals.seal(obj, signer, key, obj["modified"]).to_stix()
        return [forged if o.get("sealed_ref") == target else o for o in objects]

    return change


def _edit_seal(target: str, field: str, how: Callable[[str], str]) -> Callable[[Objects], Objects]:
    def change(objects: Objects) -> Objects:
        return [
            {**o, field: how(o[field])} if o.get("sealed_ref") == target else o for o in objects
        ]

    return change


def _drop_seal(target: str) -> Callable[[Objects], Objects]:
    def change(objects: Objects) -> Objects:
        return [o for o in objects if o.get("sealed_ref") != target]

    return change


SEAL_FAULTS: dict[str, tuple[Callable[[Federation, str], Callable[[Objects], Objects]], str]] = {
    # name: (how the path changes the target's seal, words of the quarantine reason)
    "forged-with-an-unknown-key": (
        lambda fed, t: _reseal(t, fed.nodes["CERT-EU"].home_party.id, new_private_key()),
        "is not a known key of",
    ),
    "forged-with-another-partys-key": (
        lambda fed, t: _reseal(
            t, fed.nodes["CERT-EU"].home_party.id, fed.nodes["NISC"].private_key
        ),
        "is not a known key of",
    ),
    "sealed-by-the-wrong-party": (
        lambda fed, t: _reseal(t, fed.nodes["NISC"].home_party.id, fed.nodes["NISC"].private_key),
        "no seal of CERT-EU came with it",
    ),
    "signature-bit-flipped": (
        lambda fed, t: _edit_seal(t, "signature", _flip),
        "signature does not verify",
    ),
    "digest-bit-flipped": (
        lambda fed, t: _edit_seal(t, "digest", _flip_hex),
        "does not match the sealed digest",
    ),
    "missing": (lambda fed, t: _drop_seal(t), "no seal of CERT-EU came with it"),
}


def test_bad_seals_quarantine_their_objects_which_never_go_onward(
    three: tuple[Federation, Published],
) -> None:
    """Each fault on a GREEN object of its own, all on the path from CERT-EU to BSI at once."""
    fed, published = three
    eu, bsi, nisc = (fed.nodes[n] for n in NAMES)
    # NISC hears of CERT-EU's objects only through BSI: onward releases are what is tested.
    peers.remove(nisc, "CERT-EU")
    targets = dict(zip(SEAL_FAULTS, published.green, strict=False))
    changes = [SEAL_FAULTS[fault][0](fed, target) for fault, target in targets.items()]

    def tamper(objects: Objects) -> Objects:
        for change in changes:
            objects = change(objects)
        return objects

    fed.wrappers[("BSI", "CERT-EU")] = lambda _me, _to, inner: Rewrite(inner, tamper)
    results = run(fed, "BSI")
    assert results["CERT-EU"].error is None
    assert results["CERT-EU"].quarantined == len(SEAL_FAULTS)
    held_as = quarantined(bsi)
    assert set(held_as) == set(targets.values())
    home_view = {e.version.id for e in explain.preview(bsi, bsi.home_party)}
    for fault, target in targets.items():
        assert SEAL_FAULTS[fault][1] in held_as[target], (fault, held_as[target])
        # Kept and shown at home...
        assert explain.explain(bsi, target, bsi.home_party)[-1].decision.released, fault
        assert target in home_view, fault
        # ...and never released onward, to anyone, not even back to its originator.
        for name in ("NISC", "CERT-EU"):
            refusal = explain.explain(bsi, target, parties.find(bsi, name))[-1].decision.refusal
            assert refusal is not None and "quarantined" in refusal.sentence, (fault, name)

    del fed.wrappers[("BSI", "CERT-EU")]
    converge(fed)
    assert quarantined(bsi) == held_as
    assert ids(nisc).isdisjoint(targets.values())
    # The channel works: every other GREEN object of CERT-EU reached NISC through BSI, sealed
    # by CERT-EU; the AMBER+STRICT and RED ones stop at BSI (first hop only).
    others = set(published.green) - set(targets.values())
    assert others and others <= ids(nisc)
    assert all(sealed_by(nisc, oid) == {eu.home_party.id} for oid in others)
    assert ids(nisc).isdisjoint({*published.strict, *published.red})
    expected = expected_all(published)
    expected["NISC"] = expected["NISC"] - {*targets.values(), *published.strict}
    assert_holdings(fed, published, expected)

    # NISC peers with CERT-EU again and gets the genuine objects and seals; relayed on to BSI,
    # CERT-EU's valid seal proves BSI's copies (their content was never touched): they leave
    # quarantine, and only then go onward.
    peers.add(nisc, fed.url("CERT-EU"), "CERT-EU", tokens.create(eu, "NISC").value)
    converge(fed)
    assert quarantined(bsi) == {}
    for target in targets.values():
        assert eu.home_party.id in sealed_by(bsi, target)
        assert explain.explain(bsi, target, parties.find(bsi, "NISC"))[-1].decision.released
    assert_holdings(fed, published, expected_all(published))


# A replayed page.


def _cursor_log(node: Node, peer: str, log: list[int | None]) -> Callable[[str, int], None]:
    """A progress callback that reads the saved cursor after each committed page."""

    def progress(name: str, _n: int) -> None:
        if name == peer:
            log.append(peer_of(node, peer).cursor)

    return progress


def _never_back(log: list[int | None]) -> None:
    assert log, "no page was committed"
    first = next((i for i, c in enumerate(log) if c is not None), len(log))
    assert None not in log[first:], "the cursor was reset"
    assert log[first:] == sorted(log[first:]), "the cursor moved back"  # type: ignore[type-var]


REPLAYS: dict[str, Callable[[int], int | None]] = {
    "an-earlier-page-again": lambda n: 1 if n == 4 else None,
    "each-page-twice": lambda n: n - 1 if n % 2 == 0 else None,
}


@pytest.mark.parametrize("schedule", list(REPLAYS))
def test_a_replayed_page_is_idempotent(three: tuple[Federation, Published], schedule: str) -> None:
    fed, published = three
    bsi = fed.nodes["BSI"]
    made: list[Replay] = []

    def wrap(_me: str, _to: str, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        made.append(Replay(inner, REPLAYS[schedule]))
        return made[-1]

    fed.wrappers[("BSI", "CERT-EU")] = wrap
    log: list[int | None] = []
    results = run(fed, "BSI", progress=_cursor_log(bsi, "CERT-EU", log))
    assert made[0].replayed > 0
    assert results["CERT-EU"].error is None
    _never_back(log)
    from_eu = {*published.green, *published.strict, *published.red}
    assert from_eu <= ids(bsi)
    # Each new object counted once as stored, however often its page came.
    assert results["CERT-EU"].stored == len(received_from(bsi, fed.nodes["CERT-EU"].home_party.id))
    assert max(versions(bsi).values()) == 1
    converge(fed)
    assert_holdings(fed, published, expected_all(published))


def test_a_page_with_every_object_twice_stores_each_once(
    three: tuple[Federation, Published],
) -> None:
    fed, published = three
    fed.wrappers[("BSI", "CERT-EU")] = lambda _me, _to, inner: Doubled(inner)
    results = run(fed, "BSI")
    assert results["CERT-EU"].error is None
    assert max(versions(fed.nodes["BSI"]).values()) == 1
    converge(fed)
    assert_holdings(fed, published, expected_all(published))


def test_a_peer_stuck_replaying_its_first_page_ends_the_sync(
    three: tuple[Federation, Published],
) -> None:
    """A page that does not move the cursor while saying ``more`` would be asked for forever."""
    fed, published = three
    bsi = fed.nodes["BSI"]
    fed.wrappers[("BSI", "CERT-EU")] = lambda _me, _to, inner: Replay(
        inner, lambda n: 1 if n >= 2 else None
    )
    log: list[int | None] = []
    results = run(fed, "BSI", progress=_cursor_log(bsi, "CERT-EU", log))
    assert results["CERT-EU"].error is not None
    assert results["NISC"].error is None
    _never_back(log)
    assert max(versions(bsi).values()) == 1
    del fed.wrappers[("BSI", "CERT-EU")]
    converge(fed)
    assert_holdings(fed, published, expected_all(published))


def test_a_replayed_page_from_before_a_policy_change_does_not_send_the_cursor_back(
    three: tuple[Federation, Published],
) -> None:
    """Pages carry the peer's policy generation; a stale one must not restart the read."""
    fed, published = three
    eu, bsi = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    first: list[tuple[int, list[tuple[str, str]], bytes]] = []

    def record(_me: str, _to: str, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        replay = Replay(inner, lambda n: None)
        replay.sent = first
        return replay

    fed.wrappers[("BSI", "CERT-EU")] = record
    run(fed, "BSI")
    old_page = first[0]
    del fed.wrappers[("BSI", "CERT-EU")]
    # CERT-EU's policy changes (a consent), so its generation moves on; BSI reads it all again.
    consents.grant(
        eu, expires_us=eu.now() + 86_400_000_000, objects=[published.strict[0]], parties=["NISC"]
    )
    run(fed, "BSI")
    settled = peer_of(bsi, "CERT-EU").cursor
    assert settled is not None

    class Stale(Wrapper):
        async def pull(self, request: httpx.Request) -> httpx.Response:
            if self.pulls == 1:
                status, headers, body = old_page
                return httpx.Response(status, headers=headers, content=body)
            return await super().pull(request)

    fed.wrappers[("BSI", "CERT-EU")] = lambda _me, _to, inner: Stale(inner)
    log: list[int | None] = []
    results = run(fed, "BSI", progress=_cursor_log(bsi, "CERT-EU", log))
    assert results["CERT-EU"].error is None
    assert log and all(c == settled for c in log), "the cursor moved back"
    assert max(versions(bsi).values()) == 1
    del fed.wrappers[("BSI", "CERT-EU")]
    converge(fed)
    assert_holdings(fed, published, expected_all(published))


def test_seal_objects_are_never_stored_among_objects(three: tuple[Federation, Published]) -> None:
    fed, _ = three
    converge(fed)
    for node in fed.nodes.values():
        assert not ids(node, SEAL_TYPE)


def test_objects_naming_no_party_as_creator_travel_two_hops_unquarantined(
    three: tuple[Federation, Published],
) -> None:
    """A feed object without ``created_by_ref`` and a registry identity, relayed by CERT-EU:
    the receiver cannot know their source of record, so each sender vouches with its seal."""
    fed, _ = three
    eu, bsi, nisc = (fed.nodes[n] for n in NAMES)
    peers.remove(nisc, "BSI")  # NISC hears of BSI's objects only through CERT-EU
    feed = indicator("public-feed", 1, bsi.home_party.id, [TLP_MARKING_ID["clear"]])
    del feed["created_by_ref"]
    publish(bsi, [feed])
    partner = parties.add_party(
        bsi, "Port of Hamburg", jurisdiction="DE", kind="private",
        party_id="identity--9a000000-0000-4000-8000-000000000009",
        public_keys=(signing.public_key_of(new_private_key()),),
    )  # fmt: skip
    converge(fed)
    for oid in (feed["id"], partner.id):
        assert oid in ids(eu) and oid in ids(nisc), oid
        # Each kept the seal of the node it first had it from (and of any that sent it since).
        assert bsi.home_party.id in sealed_by(eu, oid), oid
        assert eu.home_party.id in sealed_by(nisc, oid), oid
    assert quarantined(eu) == {} and quarantined(nisc) == {}


def test_a_sync_that_brings_nothing_new_reads_nothing_again(
    three: tuple[Federation, Published],
) -> None:
    """Agreement copies that add nothing must not move a node's policy generation: a moved
    generation makes every peer read the node's whole view again, on every sync, forever."""
    fed, published = three
    converge(fed)
    before = {name: sync.generation(node) for name, node in fed.nodes.items()}
    for name in fed.nodes:
        for peer, result in run(fed, name).items():
            assert result.error is None, (name, peer)
            assert result.pulled == 0, (name, peer, result)
    assert {name: sync.generation(node) for name, node in fed.nodes.items()} == before
    assert_holdings(fed, published, expected_all(published))


@pytest.mark.parametrize("fault", ["missing", "content-changed"])
def test_an_object_naming_no_creator_is_quarantined_without_its_senders_seal(
    three: tuple[Federation, Published], fault: str
) -> None:
    """No ``created_by_ref`` is no free pass: the sender's seal must come with it."""
    fed, _ = three
    eu, bsi = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    feed = indicator("public-feed", 2, bsi.home_party.id, [TLP_MARKING_ID["clear"]])
    del feed["created_by_ref"]
    publish(bsi, [feed])

    def tamper(objects: Objects) -> Objects:
        if fault == "missing":
            return _drop_seal(feed["id"])(objects)
        return [{**o, "name": "changed on the way"} if o.get("id") == feed["id"] else o
                for o in objects]  # fmt: skip

    fed.wrappers[("CERT-EU", "BSI")] = lambda _me, _to, inner: Rewrite(inner, tamper)
    results = run(fed, "CERT-EU")
    assert results["BSI"].error is None
    reason = quarantined(eu).get(feed["id"])
    assert reason is not None, "stored from a peer without the sender's valid seal"
    assert ("no seal of BSI" if fault == "missing" else "does not match") in reason
    refusal = explain.explain(eu, feed["id"], parties.find(eu, "NISC"))[-1].decision.refusal
    assert refusal is not None and "quarantined" in refusal.sentence
