"""Bad input never gets a 500 and never leaves anything half-stored.

Every refusal is a TAXII error resource (or, on the JSON API, a JSON problem) or a per-object
failure in the status resource; the store afterwards holds exactly what was reported stored.
Hypothesis fuzzes POST bodies and query strings against the real app on each backend.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix_factory import (
    INBOX_URL,
    RELEASED_URL,
    TAXII_HEADERS,
    TLP,
    assert_taxii_error,
    envelope,
    indicator,
    stix_id,
)
from taxii_harness import Caller, Taxii

from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.core.taxii import MEDIA_TAXII, Filters
from kizuna.services import importer
from kizuna.storage import objects as store
from shared_data import require_shared_data

Snapshot = dict[tuple[str, int], bytes]


def snapshot(taxii: Taxii) -> Snapshot:
    """Every stored object version: (id, modified µs) -> its bytes."""
    with taxii.node.db.read() as conn:
        rows = store.scan(conn, Filters(versions=("all",)), None, 10_000_000)
    return {(r.id, r.modified): r.content for r in rows}


def version_key(entry: dict[str, Any]) -> tuple[str, int] | None:
    try:
        return entry["id"], parse_timestamp(entry["version"]) if entry["version"] else 0
    except (ValueError, KeyError):
        return None


def post_and_check(taxii: Taxii, who: Caller, body: bytes | Any, **headers: str) -> Any:
    """POST a body to the inbox and check every invariant of the answer against the store."""
    before = snapshot(taxii)
    r = who.client.post(INBOX_URL + "objects/", content=body, headers={**TAXII_HEADERS, **headers})
    assert r.status_code < 500, r.text
    after = snapshot(taxii)
    changed = {k for k in before if before[k] != after.get(k)}
    assert not changed, "stored versions are immutable"
    new = after.keys() - before.keys()
    if r.status_code != 202:
        assert_taxii_error(r, r.status_code)
        assert not new, "a refused request stored something"
        return r
    status = r.json()
    assert r.headers["content-type"] == MEDIA_TAXII
    assert status["status"] == "complete" and status["pending_count"] == 0
    successes = status.get("successes", [])
    failures = status.get("failures", [])
    assert len(successes) == status["success_count"]
    assert len(failures) == status["failure_count"]
    assert status["success_count"] + status["failure_count"] == status["total_count"]
    success_keys = {version_key(s) for s in successes}
    assert None not in success_keys
    # What was reported stored is in the store; what is new in the store was reported stored.
    assert success_keys <= after.keys()
    assert new <= success_keys
    for f in failures:
        assert isinstance(f["message"], str) and f["message"]
        key = version_key(f)
        if key is not None and key not in success_keys:
            assert key not in new, f"failed but stored: {f}"
    return r


@pytest.fixture(scope="module")
def bsi(shared_taxii: Taxii) -> Caller:
    return shared_taxii.join("BSI")


@pytest.fixture(scope="module")
def stored(shared_taxii: Taxii, bsi: Caller) -> dict[str, Any]:
    """An object of BSI's already on the node (for conflicts)."""
    obj = indicator("already", created_by=bsi.party.id)
    assert post_and_check(shared_taxii, bsi, envelope(obj)).json()["success_count"] == 1
    return obj


# --- hand-picked bad bodies -------------------------------------------------------------------

DEEP = b"[" * 5000 + b"]" * 5000

BAD_BODIES = {
    "empty": b"",
    "truncated": b'{"objects": [',
    "not-json": b"objects please",
    "binary": bytes(range(256)),
    "utf16": '{"objects": []}'.encode("utf-16"),
    "lone-surrogate": b'{"objects": ["\\ud800"]}',
    "infinity": b'{"objects": [{"type": "indicator", "x": 1e999}]}',
    "nan": b'{"objects": [NaN]}',
    "list": b"[]",
    "number": b"5",
    "string": b'"objects"',
    "null": b"null",
    "objects-null": b'{"objects": null}',
    "objects-object": b'{"objects": {}}',
    "objects-string": b'{"objects": "x"}',
    "deep": DEEP,
    "deep-objects": b'{"objects": ' + DEEP + b"}",
    "trailing-garbage": b'{"objects": []} x',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_malformed_bodies_get_a_taxii_error(shared_taxii: Taxii, bsi: Caller, body: bytes) -> None:
    r = post_and_check(shared_taxii, bsi, body)
    assert r.status_code in (400, 202)
    api = bsi.client.post("/api/objects", content=body)
    assert api.status_code in (200, 400, 413), api.text
    if api.status_code != 200:
        assert api.json()["error"]["status"] == api.status_code


def test_garbage_in_the_objects_list_fails_per_object(shared_taxii: Taxii, bsi: Caller) -> None:
    good = indicator("among-garbage", created_by=bsi.party.id)
    garbage: list[Any] = [
        1, "x", None, [], {}, True, {"type": 5}, {"type": "indicator"}, {"id": "indicator--x"},
        {**good, "id": "indicator--not-a-uuid"}, {**good, "created": "yesterday"},
        {**good, "pattern_type": None}, {**good, "object_marking_refs": "no"},
        {**good, "object_marking_refs": ["identity--" + good["id"].split("--")[1]]},
    ]  # fmt: skip
    status = post_and_check(shared_taxii, bsi, envelope(*garbage, good)).json()
    assert status["total_count"] == len(garbage) + 1
    assert status["failure_count"] == len(garbage)
    assert [s["id"] for s in status["successes"]] == [good["id"]]


def test_version_conflict_keeps_the_first(
    shared_taxii: Taxii, bsi: Caller, stored: dict[str, Any]
) -> None:
    changed = {**stored, "name": "changed without a new modified"}
    status = post_and_check(shared_taxii, bsi, envelope(changed)).json()
    assert status["failure_count"] == 1
    message = status["failures"][0]["message"]
    assert "already stored with different content" in message
    got = bsi.client.get(f"{INBOX_URL}objects/{stored['id']}/").json()["objects"]
    assert got == [stored]
    again = post_and_check(shared_taxii, bsi, envelope(stored)).json()
    assert again["success_count"] == 1 and "already stored" in again["successes"][0]["message"]


def test_stix_2_0_is_refused_with_a_message_saying_so(shared_taxii: Taxii, bsi: Caller) -> None:
    v20 = {
        "type": "indicator",
        "id": stix_id("indicator", "stix-2.0"),
        "created": "2017-01-01T00:00:00.000Z",
        "modified": "2017-01-01T00:00:00.000Z",
        "labels": ["malicious-activity"],
        "pattern": "[file:name = 'x.exe']",
        "valid_from": "2017-01-01T00:00:00Z",
    }
    declared = {**indicator("declared-2.0", created_by=bsi.party.id), "spec_version": "2.0"}
    status = post_and_check(shared_taxii, bsi, envelope(v20, declared)).json()
    assert status["failure_count"] == 2
    for failure in status["failures"]:
        assert "2.0" in failure["message"]
        assert "not accept" in failure["message"]


def test_objects_created_by_another_party_are_refused_per_object(
    shared_taxii: Taxii, bsi: Caller
) -> None:
    ria = shared_taxii.join("RIA", jurisdiction="EE", scheme="EE")
    mine = indicator("mine-among-theirs", created_by=bsi.party.id)
    theirs = indicator("pretending", created_by=ria.party.id)
    homes = indicator("pretending-home", created_by=shared_taxii.home.party.id)
    unknown = indicator("unknown-creator", created_by=stix_id("identity", "outsider"))
    status = post_and_check(shared_taxii, bsi, envelope(theirs, mine, homes, unknown)).json()
    assert {s["id"] for s in status["successes"]} == {mine["id"], unknown["id"]}
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert set(failed) == {theirs["id"], homes["id"]}
    assert "another party" in failed[theirs["id"]]
    # Nor may a party publish a new version of another party's object.
    newer = {
        **indicator("mine-among-theirs", created_by=None),
        "modified": "2027-01-01T00:00:00.000Z",
    }
    status = post_and_check(shared_taxii, ria, envelope(newer)).json()
    assert status["failure_count"] == 1 and "originator" in status["failures"][0]["message"]


VALIDATOR_EXAMPLES = ("stix", "oasis-cti-stix-validator", "stix2validator", "test", "v21",
                      "test_examples")  # fmt: skip


def invalid_examples() -> list[Path]:
    folder = require_shared_data(*VALIDATOR_EXAMPLES)
    found = sorted(folder.glob("invalid_*.json"))
    assert len(found) >= 4, found
    return found


def test_the_validators_broken_files_are_refused(shared_taxii: Taxii, bsi: Caller) -> None:
    for path in invalid_examples():
        raw = path.read_bytes()
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            r = post_and_check(shared_taxii, bsi, b'{"objects": [' + raw + b"]}")
            assert_taxii_error(r, 400)
            continue
        obj.pop("created_by_ref", None)
        status = post_and_check(shared_taxii, bsi, envelope(obj)).json()
        assert status["failure_count"] == 1, path.name
        assert obj["id"] in status["failures"][0]["message"], path.name


def test_the_validators_broken_files_fail_import_with_reasons(shared_taxii: Taxii) -> None:
    paths = invalid_examples()
    before = snapshot(shared_taxii)
    report = importer.import_paths(shared_taxii.node, paths)
    assert report.stored == 0 and report.files == len(paths)
    assert len(report.failures) == len(paths)
    for f in report.failures:
        assert f.reason
    reasons = " ".join(f.reason for f in report.failures)
    assert "not JSON" in reasons and "modified" in reasons
    assert snapshot(shared_taxii) == before


# --- Hypothesis: random bodies, mutated envelopes, query strings -------------------------------

FUZZ = settings(
    max_examples=min(settings().max_examples, 300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = st.sampled_from(
    ["type", "id", "spec_version", "created", "modified", "objects", "name", "pattern",
     "pattern_type", "valid_from", "created_by_ref", "object_marking_refs", "x_custom", "more"]
) | st.text(max_size=12)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["indicator", "2.1", "2.0", "2026-01-01T00:00:00Z", TLP["amber"],
                       "indicator--00000000-0000-4000-8000-000000000000", "\x00", "\ud7ff"])
)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=30,
)


@FUZZ
@given(document=JSON)
def test_fuzz_random_json_bodies(shared_taxii: Taxii, bsi: Caller, document: Any) -> None:
    post_and_check(shared_taxii, bsi, orjson.dumps(document))


@FUZZ
@given(document=st.lists(JSON, max_size=6).map(lambda objs: {"objects": objs}))
def test_fuzz_random_envelopes(shared_taxii: Taxii, bsi: Caller, document: Any) -> None:
    post_and_check(shared_taxii, bsi, orjson.dumps(document))


@FUZZ
@given(body=st.binary(max_size=300))
def test_fuzz_random_bytes(shared_taxii: Taxii, bsi: Caller, body: bytes) -> None:
    post_and_check(shared_taxii, bsi, body)


def _valid_objects(bsi: Caller, other: str, stored: dict[str, Any]) -> list[dict[str, Any]]:
    ipv4 = {"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.7",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"}  # fmt: skip
    marking = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": stix_id("marking-definition", "statement"),
        "created": "2026-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright kizuna tests"},
    }
    relationship = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": stix_id("relationship", "fuzz"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "relationship_type": "indicates",
        "source_ref": stored["id"],
        "target_ref": stix_id("malware", "fuzz"),
        "created_by_ref": bsi.party.id,
    }
    return [
        indicator("fuzz-a", created_by=bsi.party.id),
        indicator("fuzz-b", created_by=bsi.party.id, tlp="red"),
        indicator("fuzz-c", created_by=other),
        {**stored, "name": "conflicting"},
        copy.deepcopy(stored),
        ipv4,
        marking,
        relationship,
    ]


@st.composite
def mutated_envelopes(draw: st.DrawFn, pool: list[dict[str, Any]]) -> dict[str, Any]:
    objs = [copy.deepcopy(o) for o in draw(st.lists(st.sampled_from(pool), max_size=5))]
    for obj in objs:
        for _ in range(draw(st.integers(0, 3))):
            action = draw(st.sampled_from(["drop", "set", "retype", "stamp", "id", "version"]))
            key = draw(st.sampled_from(sorted(obj)) if obj else KEYS)
            if action == "drop":
                obj.pop(key, None)
            elif action == "set":
                obj[draw(KEYS)] = draw(JSON)
            elif action == "retype":
                obj["type"] = draw(
                    st.sampled_from(
                        [
                            "indicator",
                            "malware",
                            "x-custom",
                            "bundle",
                            "ipv4-addr",
                            "marking-definition",
                            "",
                        ]
                    )
                )
            elif action == "stamp":
                obj[draw(st.sampled_from(["created", "modified", "valid_from"]))] = draw(
                    st.sampled_from(["2026-02-30T00:00:00Z", "2026-01-01T00:00:00.1234567Z",
                                     "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
                                     "2026-01-01 00:00:00", "2027-01-01T00:00:00Z"])
                    | st.text(max_size=25)
                )  # fmt: skip
            elif action == "id":
                obj["id"] = draw(st.sampled_from([o["id"] for o in pool]) | st.text(max_size=50))
            else:
                obj["spec_version"] = draw(st.sampled_from(["2.0", "2.1", "2.2", None, 2.1]))
    return {"objects": objs}


@pytest.fixture(scope="module")
def pool(shared_taxii: Taxii, bsi: Caller, stored: dict[str, Any]) -> list[dict[str, Any]]:
    return _valid_objects(bsi, shared_taxii.home.party.id, stored)


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_valid_envelopes(
    shared_taxii: Taxii, bsi: Caller, pool: list[dict[str, Any]], data: st.DataObject
) -> None:
    document = data.draw(mutated_envelopes(pool))
    post_and_check(shared_taxii, bsi, orjson.dumps(document))


@pytest.mark.parametrize("creator", [[], {"id": "x"}], ids=["list", "object"])
def test_unhashable_created_by_ref_is_a_failure_not_a_500(
    shared_taxii: Taxii, bsi: Caller, creator: Any
) -> None:
    obj = {**indicator("unhashable-creator"), "created_by_ref": creator}
    r = post_and_check(shared_taxii, bsi, envelope(obj))
    assert r.status_code == 202 and r.json()["failure_count"] == 1


PARAMS = st.sampled_from(
    ["added_after", "limit", "next", "match[id]", "match[type]", "match[version]",
     "match[spec_version]"]
) | st.text(max_size=10)  # fmt: skip
VALUES = st.sampled_from(
    ["", "0", "1", "3", "last", "first", "all", "2.1", "2.0", "indicator", "identity",
     "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000001Z", "kz1.AAAAAAAAAAA", "kz1.%%%",
     "indicator--00000000-0000-4000-8000-000000000000", "\x00", "²"]
) | st.text(max_size=30)  # fmt: skip


@FUZZ
@given(
    path=st.sampled_from([
        RELEASED_URL + "objects/", RELEASED_URL + "manifest/", INBOX_URL + "objects/",
        INBOX_URL + "manifest/", INBOX_URL + "objects/{held}/",
        INBOX_URL + "objects/{held}/versions/",
    ]),
    params=st.lists(st.tuples(PARAMS, VALUES), max_size=5),
)  # fmt: skip
def test_fuzz_query_strings(
    shared_taxii: Taxii, bsi: Caller, stored: dict[str, Any], path: str, params: list[Any]
) -> None:
    r = bsi.client.get(path.format(held=stored["id"]), params=params)
    assert r.status_code in (200, 400, 404), r.text
    if r.status_code != 200:
        assert_taxii_error(r, r.status_code)
        return
    assert r.headers["content-type"] == MEDIA_TAXII
    body = r.json()
    assert isinstance(body["more"], bool)
    assert ("next" in body) is body["more"]
    items = body.get("objects", body.get("versions", []))
    assert ("x-taxii-date-added-first" in r.headers) is bool(items)


@FUZZ
@given(object_id=st.text(max_size=60), status_id=st.text(max_size=40))
def test_fuzz_path_segments(
    shared_taxii: Taxii, bsi: Caller, object_id: str, status_id: str
) -> None:
    object_id, status_id = quote(object_id, safe=""), quote(status_id, safe="")
    for method, path in (
        ("GET", f"{RELEASED_URL}objects/{object_id}/"),
        ("GET", f"{INBOX_URL}objects/{object_id}/versions/"),
        ("DELETE", f"{INBOX_URL}objects/{object_id}/"),
        ("GET", f"/taxii2/root/status/{status_id}/"),
        ("GET", f"/taxii2/root/collections/{status_id}/"),
    ):
        r = bsi.client.request(method, path)
        assert r.status_code < 500, (path, r.text)
        if r.status_code != 200:
            assert_taxii_error(r, r.status_code)
    r = bsi.client.get(f"/api/objects/{object_id}", params={"type": status_id})
    assert r.status_code < 500, r.text


def test_fuzz_body_sizes_around_the_limit(shared_taxii: Taxii, bsi: Caller) -> None:
    @FUZZ
    @given(size=st.integers(0, 2000))
    def post_padded(size: int) -> None:
        body = orjson.dumps({"objects": [], "x": "p" * size})
        r = post_and_check(shared_taxii, bsi, body)
        assert r.status_code == (202 if len(body) <= 600 else 413)

    shared_taxii.node.set_setting("max_content_length", "600")
    try:
        post_padded()
    finally:
        shared_taxii.node.set_setting("max_content_length", None)


def test_a_bad_timestamp_on_an_sco_is_a_failure_not_a_500(shared_taxii: Taxii, bsi: Caller) -> None:
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.7",
           "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
           "created": "2026-02-30T00:00:00Z"}  # fmt: skip
    r = post_and_check(shared_taxii, bsi, envelope(sco))
    assert r.status_code == 202 and r.json()["failure_count"] == 1


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59.999Z", "1601-01-01T00:00:00.000Z"])
def test_objects_of_any_valid_date_can_be_released(
    shared_taxii: Taxii, bsi: Caller, stamp: str
) -> None:
    obj = indicator(f"dated-{stamp}", created_by=shared_taxii.home.party.id, modified=stamp)
    obj["created"] = "1601-01-01T00:00:00.000Z"
    assert post_and_check(shared_taxii, shared_taxii.home, envelope(obj)).status_code == 202
    try:
        r = bsi.client.get(RELEASED_URL + "objects/", params={"match[id]": obj["id"]})
        assert r.status_code == 200, r.text
    finally:  # do not leave the other tests a poisoned collection
        shared_taxii.home.client.delete(f"{INBOX_URL}objects/{obj['id']}/")
