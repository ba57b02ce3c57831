"""TAXII 2.1 on the in-process app, on each backend: filters, paging, headers, errors.

REFERENCE.md lists the points clients depend on; each test names the one it holds.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
import pytest
from stix_factory import (
    API_ROOT,
    INBOX_URL,
    RELEASED_URL,
    TAXII_HEADERS,
    assert_taxii_error,
    envelope,
    indicator,
    without_seals,
)
from taxii_harness import Caller, Taxii

from kizuna.core.taxii import INBOX, MEDIA_TAXII
from kizuna.services import tokens

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def post(who: Caller, *objects: dict[str, Any], url: str = INBOX_URL) -> dict[str, Any]:
    r = who.client.post(url + "objects/", content=envelope(*objects), headers=TAXII_HEADERS)
    assert r.status_code == 202, r.text
    assert r.headers["content-type"] == MEDIA_TAXII
    status: dict[str, Any] = r.json()
    counts = ("success_count", "failure_count", "pending_count")
    assert sum(status[k] for k in counts) == status["total_count"] == len(objects)
    return status


def get(who: Caller, path: str, **params: Any) -> Any:
    r = who.client.get(path, params=params, headers={"Accept": MEDIA_TAXII})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MEDIA_TAXII
    return r


def ids(r: Any, key: str = "objects") -> list[str]:
    return [o["id"] for o in without_seals(r.json().get(key, []))]


@pytest.fixture
def bsi(taxii: Taxii) -> Caller:
    return taxii.join("BSI")


@pytest.fixture(scope="module")
def reader(shared_taxii: Taxii) -> Caller:
    """A party of the module's shared node, for tests that store nothing that matters."""
    return shared_taxii.join("BSI")


@pytest.fixture(scope="module")
def held(reader: Caller) -> dict[str, Any]:
    """One object of ``reader``'s on the shared node."""
    return seed(reader, 1, "held")[0]


def seed(bsi: Caller, count: int, prefix: str = "s") -> list[dict[str, Any]]:
    """``count`` objects of ``bsi``'s, posted one by one: each post is a batch, and a batch's
    versions take random dates in its window, so only separate posts keep their order."""
    objs = [indicator(f"{prefix}-{n}", created_by=bsi.party.id) for n in range(count)]
    for obj in objs:
        post(bsi, obj)
    return objs


# --- media types (REFERENCE: every response is taxii+json 2.1; bare taxii+json is accepted) ---

ENDPOINTS = [
    "/taxii2/",
    API_ROOT,
    f"{API_ROOT}collections/",
    INBOX_URL,
    INBOX_URL + "objects/",
    INBOX_URL + "manifest/",
]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "accept",
    [
        None,
        "application/taxii+json",
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        "*/*",
        "application/json;q=0.5, application/taxii+json",
    ],
)
def test_taxii_media_types_are_accepted(reader: Caller, path: str, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    r = reader.client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MEDIA_TAXII
    assert isinstance(r.json(), dict)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/taxii+json;version=2.0",
        "application/stix+json;version=2.1",
        "text/html",
        "application/taxii+json;q=0",
    ],
)
def test_other_accept_headers_get_406(reader: Caller, path: str, accept: str) -> None:
    r = reader.client.get(path, headers={"Accept": accept})
    body = assert_taxii_error(r, 406)
    assert "application/taxii+json" in body["description"]


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "text/plain", "application/taxii+json;version=2.0",
     "application/stix+json;version=2.1", "multipart/form-data; boundary=x"],
)  # fmt: skip
def test_wrong_content_type_gets_415_and_stores_nothing(
    reader: Caller, content_type: str | None
) -> None:
    headers = {"Accept": MEDIA_TAXII}
    if content_type:
        headers["Content-Type"] = content_type
    obj = indicator(f"ct-{content_type}", created_by=reader.party.id)
    r = reader.client.post(INBOX_URL + "objects/", content=envelope(obj), headers=headers)
    assert_taxii_error(r, 415)
    assert obj["id"] not in ids(get(reader, INBOX_URL + "objects/"))


@pytest.mark.parametrize(
    "content_type", ["application/taxii+json", "application/taxii+json;version=2.1",
                     "application/taxii+json; version=2.1; charset=utf-8"]
)  # fmt: skip
def test_taxii_content_types_are_taken(reader: Caller, content_type: str) -> None:
    body = envelope(indicator(f"ok-{content_type}", created_by=reader.party.id))
    r = reader.client.post(
        INBOX_URL + "objects/", content=body, headers={"Content-Type": content_type}
    )
    assert r.status_code == 202
    assert r.json()["success_count"] == 1


# --- authentication: 401 with WWW-Authenticate otherwise -------------------------------------


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_with_party_name_or_id_and_bearer(taxii: Taxii, bsi: Caller) -> None:
    for header in (
        _basic(bsi.party.name, bsi.token),
        _basic(bsi.party.id, bsi.token),
        f"Bearer {bsi.token}",
        f"bearer {bsi.token}",
    ):
        r = taxii.client().get(f"{API_ROOT}collections/", headers={"Authorization": header})
        assert r.status_code == 200, header


def _bad_credentials(taxii: Taxii, bsi: Caller) -> dict[str, str | bytes | None]:
    revoked = tokens.create(taxii.node, bsi.party.id, "old")
    tokens.revoke(taxii.node, revoked.id)
    return {
        "none": None,
        "empty": "",
        "unknown-scheme": f"Token {bsi.token}",
        "empty-bearer": "Bearer ",
        "wrong-secret": f"Bearer {bsi.token[:-3]}xyz",
        "not-a-token": "Bearer hello",
        "revoked": f"Bearer {revoked.value}",
        "other-user": _basic(taxii.home.party.name, bsi.token),
        "basic-no-colon": "Basic " + base64.b64encode(b"BSI").decode(),
        "basic-not-base64": "Basic !!!",
        "basic-not-utf8": "Basic " + base64.b64encode(b"BSI:\xff\xfe").decode(),
        "basic-not-ascii": "Basic ÿÿÿÿ".encode("latin-1"),
        "basic-nul-token": _basic("BSI", "kz_\x00_x"),
        "bearer-control": "Bearer kz_a\x01b_c",
    }


@pytest.mark.parametrize("path", [*ENDPOINTS, f"{API_ROOT}status/x/", "/api/node"])
def test_every_endpoint_needs_credentials(shared_taxii: Taxii, reader: Caller, path: str) -> None:
    anonymous = shared_taxii.client()
    for name, header in _bad_credentials(shared_taxii, reader).items():
        headers: Any = {"Authorization": header} if header is not None else {}
        r = anonymous.get(path, headers=headers)
        assert r.status_code == 401, name
        challenge = r.headers["www-authenticate"]
        assert "Basic" in challenge and "Bearer" in challenge, name
        if path.startswith("/taxii2"):
            assert_taxii_error(r, 401)
        else:
            assert r.json()["error"]["status"] == 401


def test_post_without_credentials_stores_nothing(taxii: Taxii, bsi: Caller) -> None:
    body = envelope(indicator("anon", created_by=bsi.party.id))
    r = taxii.client().post(INBOX_URL + "objects/", content=body, headers=TAXII_HEADERS)
    assert_taxii_error(r, 401)
    assert indicator("anon")["id"] not in ids(get(taxii.home, RELEASED_URL + "objects/"))


# --- errors: 404, 400, 403, 405, 413 ----------------------------------------------------------

UNKNOWN = "ffffffff-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{API_ROOT}collections/{UNKNOWN}/"),
        ("GET", f"{API_ROOT}collections/{UNKNOWN}/objects/"),
        ("GET", f"{API_ROOT}collections/{UNKNOWN}/manifest/"),
        ("GET", f"{API_ROOT}collections/{UNKNOWN}/objects/indicator--{UNKNOWN}/"),
        ("GET", f"{API_ROOT}collections/{UNKNOWN}/objects/indicator--{UNKNOWN}/versions/"),
        ("DELETE", f"{API_ROOT}collections/{UNKNOWN}/objects/indicator--{UNKNOWN}/"),
        ("POST", f"{API_ROOT}collections/{UNKNOWN}/objects/"),
        ("GET", INBOX_URL + f"objects/indicator--{UNKNOWN}/"),
        ("GET", INBOX_URL + f"objects/indicator--{UNKNOWN}/versions/"),
        ("DELETE", INBOX_URL + f"objects/indicator--{UNKNOWN}/"),
        ("GET", f"{API_ROOT}status/{UNKNOWN}/"),
        ("GET", "/taxii2/elsewhere/"),
        ("GET", "/taxii2/root/collections/x/y/z/"),
    ],
)
def test_unknown_things_get_404(reader: Caller, method: str, path: str) -> None:
    headers = TAXII_HEADERS if method == "POST" else {"Accept": MEDIA_TAXII}
    r = reader.client.request(method, path, headers=headers, content=b'{"objects": []}')
    assert_taxii_error(r, 404)


@pytest.mark.parametrize(
    "query",
    [
        "next=garbage",
        "next=kz1.",
        "next=kz1.!!!!",
        "next=kz1.AAAA",
        "next=kz1.AAAAAAAAAAAAAAAAAAAAAA",
        "next=a&next=b",
        "match[type]=Not A Type",
        "match[type]=%00",
        "match[id]=%00",
        "match[id]=indicator--nope",
        "match[version]=yesterday",
        "match[version]=2026-13-01T00:00:00Z",
        "match[spec_version]=3.0",
        "added_after=junk",
        "added_after=2026-01-01T00:00:00",
        "added_after=2026-01-01T00:00:00Z&added_after=2026-01-02T00:00:00Z",
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=%C2%B2",
        "limit=",
        "color=blue",
    ],
)
@pytest.mark.parametrize("endpoint", ["objects/", "manifest/"])
def test_bad_filters_and_cursors_get_400(reader: Caller, query: str, endpoint: str) -> None:
    r = reader.client.get(f"{RELEASED_URL}{endpoint}?{query}", headers={"Accept": MEDIA_TAXII})
    body = assert_taxii_error(r, 400)
    assert body["description"]


@pytest.mark.parametrize(
    ("suffix", "query"),
    [
        ("", "match[id]=x"),
        ("", "match[type]=indicator"),
        ("versions/", "match[version]=all"),
        ("versions/", "match[type]=indicator"),
        ("versions/", "next=junk"),
        ("", "match[version]=whenever"),
    ],
)
def test_object_endpoints_refuse_parameters_they_do_not_take(
    reader: Caller, held: dict[str, Any], suffix: str, query: str
) -> None:
    r = reader.client.get(f"{INBOX_URL}objects/{held['id']}/{suffix}?{query}")
    assert_taxii_error(r, 400)


def test_delete_refuses_paging_parameters(bsi: Caller) -> None:
    obj = seed(bsi, 1)[0]
    r = bsi.client.delete(f"{INBOX_URL}objects/{obj['id']}/?limit=1")
    assert_taxii_error(r, 400)
    assert ids(get(bsi, f"{INBOX_URL}objects/{obj['id']}/")) == [obj["id"]]


def test_released_collection_is_read_only_and_method_errors(
    shared_taxii: Taxii, reader: Caller
) -> None:
    body = envelope(indicator("ro", created_by=reader.party.id))
    r = reader.client.post(RELEASED_URL + "objects/", content=body, headers=TAXII_HEADERS)
    assert_taxii_error(r, 403)
    assert_taxii_error(reader.client.put(INBOX_URL + "objects/", headers=TAXII_HEADERS), 405)
    assert_taxii_error(reader.client.post(f"{API_ROOT}collections/", headers=TAXII_HEADERS), 405)
    everything = ids(get(shared_taxii.home, RELEASED_URL + "objects/", limit=1000))
    assert indicator("ro")["id"] not in everything


def test_bodies_over_max_content_length_get_413(taxii: Taxii, bsi: Caller) -> None:
    taxii.node.set_setting("max_content_length", "1500")
    root = get(bsi, API_ROOT).json()
    assert root["max_content_length"] == 1500
    objs = [indicator(f"big-{n}", created_by=bsi.party.id) for n in range(6)]
    body = envelope(*objs)
    assert len(body) > 1500
    r = bsi.client.post(INBOX_URL + "objects/", content=body, headers=TAXII_HEADERS)
    assert_taxii_error(r, 413)

    def chunks() -> Any:
        yield body[:1000]
        yield body[1000:]

    r = bsi.client.post(INBOX_URL + "objects/", content=chunks(), headers=TAXII_HEADERS)
    assert_taxii_error(r, 413)
    api = bsi.client.post("/api/objects", content=body)
    assert api.status_code == 413 and api.json()["error"]["status"] == 413
    got = set(ids(get(bsi, INBOX_URL + "objects/")))
    assert not got & {o["id"] for o in objs}
    assert post(bsi, objs[0])["success_count"] == 1


def test_status_is_only_for_its_requester(taxii: Taxii, bsi: Caller) -> None:
    status = post(bsi, indicator("st", created_by=bsi.party.id))
    mine = get(bsi, f"{API_ROOT}status/{status['id']}/").json()
    assert mine == status
    other = taxii.join("RIA", jurisdiction="EE", scheme="EE")
    assert_taxii_error(other.client.get(f"{API_ROOT}status/{status['id']}/"), 404)


# --- POST and the status resource ------------------------------------------------------------


def test_status_counts_and_messages(taxii: Taxii, bsi: Caller) -> None:
    good = indicator("good", created_by=bsi.party.id)
    broken = indicator("broken", created_by=bsi.party.id)
    del broken["pattern"]
    foreign = indicator("foreign", created_by=taxii.home.party.id)
    status = post(bsi, good, broken, foreign, good)
    assert status["status"] == "complete"
    assert MICROSECONDS.match(status["request_timestamp"])
    assert (status["success_count"], status["failure_count"]) == (2, 2)
    assert [s["id"] for s in status["successes"]] == [good["id"], good["id"]]
    assert all(s["version"] == good["modified"] for s in status["successes"])
    assert "already stored" in status["successes"][1]["message"]
    failures = {f["id"]: f["message"] for f in status["failures"]}
    assert "pattern" in failures[broken["id"]]
    assert "another party" in failures[foreign["id"]]
    assert get(bsi, f"{API_ROOT}status/{status['id']}/").json() == status


def test_empty_envelope_is_a_complete_empty_status(bsi: Caller) -> None:
    r = bsi.client.post(INBOX_URL + "objects/", content=b"{}", headers=TAXII_HEADERS)
    assert r.status_code == 202
    assert r.json()["total_count"] == 0 and r.json()["status"] == "complete"


# --- filters (REFERENCE: fields AND together; comma-separated values OR) ----------------------


def test_match_id_and_type(taxii: Taxii, bsi: Caller) -> None:
    objs = seed(bsi, 4)
    url = INBOX_URL + "objects/"
    assert ids(get(bsi, url, **{"match[id]": objs[2]["id"]})) == [objs[2]["id"]]
    both = f"{objs[3]['id']},{objs[0]['id']}"
    assert ids(get(bsi, url, **{"match[id]": both})) == [objs[0]["id"], objs[3]["id"]]
    assert ids(get(bsi, url, **{"match[type]": "identity"})) == [bsi.party.id]
    anyone = get(bsi, url, **{"match[type]": "identity,indicator"})
    assert ids(anyone) == [bsi.party.id, *(o["id"] for o in objs)]
    assert get(bsi, url, **{"match[id]": bsi.party.id, "match[type]": "indicator"}).json() == {
        "more": False
    }
    # Repeating a parameter ORs like a comma does.
    r = bsi.client.get(f"{url}?match[id]={objs[1]['id']}&match[id]={objs[2]['id']}")
    assert ids(r) == [objs[1]["id"], objs[2]["id"]]


def test_match_version(taxii: Taxii, bsi: Caller) -> None:
    v1 = indicator("v", created_by=bsi.party.id, modified="2026-01-01T00:00:00.000Z")
    v3 = indicator("v", created_by=bsi.party.id, modified="2026-03-01T00:00:00.000Z")
    v2 = indicator("v", created_by=bsi.party.id, modified="2026-02-01T00:00:00.000Z")
    for v in (v1, v3, v2):  # arrive out of order
        post(bsi, v)
    url = INBOX_URL + "objects/"

    def modified(**params: str) -> list[str]:
        r = get(bsi, url, **{"match[type]": "indicator", **params})
        return [o["modified"] for o in r.json().get("objects", [])]

    assert modified() == [v3["modified"]]
    assert modified(**{"match[version]": "last"}) == [v3["modified"]]
    assert modified(**{"match[version]": "first"}) == [v1["modified"]]
    assert modified(**{"match[version]": "all"}) == [v1["modified"], v3["modified"], v2["modified"]]
    assert modified(**{"match[version]": "first,last"}) == [v1["modified"], v3["modified"]]
    assert modified(**{"match[version]": "2026-02-01T00:00:00Z"}) == [v2["modified"]]
    assert modified(**{"match[version]": "2026-02-01T00:00:00.000001Z"}) == []
    obj_url = f"{INBOX_URL}objects/{v1['id']}/"
    r = get(bsi, obj_url, **{"match[version]": "2026-01-01T00:00:00.000Z"})
    assert r.json()["objects"] == [v1]
    assert [
        o["modified"] for o in get(bsi, obj_url, **{"match[version]": "all"}).json()["objects"]
    ] == [
        v1["modified"],
        v3["modified"],
        v2["modified"],
    ]


def test_match_spec_version(bsi: Caller) -> None:
    objs = seed(bsi, 2)
    url = INBOX_URL + "objects/"
    everything = ids(get(bsi, url))
    assert everything == [bsi.party.id, *(o["id"] for o in objs)]
    assert ids(get(bsi, url, **{"match[spec_version]": "2.1"})) == everything
    assert ids(get(bsi, url, **{"match[spec_version]": "2.0,2.1"})) == everything
    assert get(bsi, url, **{"match[spec_version]": "2.0"}).json() == {"more": False}


def test_added_after_compares_with_date_added(bsi: Caller) -> None:
    objs = seed(bsi, 5)
    manifest = without_seals(get(bsi, INBOX_URL + "manifest/").json()["objects"])
    dates = [m["date_added"] for m in manifest]
    assert all(MICROSECONDS.match(d) for d in dates)
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    for n, date in enumerate(dates):
        later = ids(get(bsi, INBOX_URL + "objects/", added_after=date))
        assert later == [m["id"] for m in manifest[n + 1 :]]
    assert [m["id"] for m in manifest][1:] == [o["id"] for o in objs]


# --- paging (REFERENCE: more true needs a next; gate before limit) ---------------------------


def walk(who: Caller, path: str, key: str = "objects", **params: Any) -> list[Any]:
    """Follow next until more is false, checking more/next and date headers on each page."""
    out: list[Any] = []
    cursor: str | None = None
    for _ in range(1000):
        query = dict(params)
        if cursor:
            query["next"] = cursor
        r = get(who, path, **query)
        body = r.json()
        items = body.get(key, [])
        if body["more"]:
            assert isinstance(body.get("next"), str) and body["next"]
            assert items, "a page that says more must not be empty"
        else:
            assert "next" not in body
        if "limit" in params:
            # A server may send fewer than limit (TAXII 2.1 §3.4.3), never more.
            assert len(items) <= int(params["limit"])
        if items and key != "versions":
            manifest = get(who, path.replace("objects/", "manifest/"), **query).json()["objects"]
            # The manifest lists a page's objects; seals travel with them but are no entries.
            assert [m["id"] for m in manifest] == [i["id"] for i in without_seals(items)]
            kept = manifest
            assert len({m["date_added"] for m in kept}) == len(kept), "date_added is unique"
            assert r.headers["x-taxii-date-added-first"] == manifest[0]["date_added"]
            assert r.headers["x-taxii-date-added-last"] == manifest[-1]["date_added"]
        elif not items:
            assert "x-taxii-date-added-first" not in r.headers
        out.extend(without_seals(items) if key == "objects" else items)
        if not body["more"]:
            return out
        cursor = body["next"]
    raise AssertionError("paging never ended")


def test_paging_returns_every_object_once_in_order(bsi: Caller) -> None:
    objs = seed(bsi, 7)
    for limit in (2, 3, 7, 8, 100):  # limit=1: see test_limit_one_is_kept_with_seals
        got = walk(bsi, INBOX_URL + "objects/", limit=limit)
        assert [o["id"] for o in got] == [bsi.party.id, *(o["id"] for o in objs)], limit
        assert [o for o in got if o["type"] == "indicator"] == objs
        manifest = walk(bsi, INBOX_URL + "manifest/", limit=limit)
        assert [m["id"] for m in manifest] == [o["id"] for o in got]


def test_limit_is_capped_by_max_page_size_and_defaults_to_page_size(
    taxii: Taxii, bsi: Caller
) -> None:
    seed(bsi, 6)
    taxii.node.set_setting("max_page_size", "3")
    taxii.node.set_setting("page_size", "2")
    home = taxii.home  # the home party gets full pages (no seals to make room for)
    url, only = RELEASED_URL + "objects/", {"match[type]": "indicator"}
    r = get(home, url, limit=50, **only).json()
    assert len(r["objects"]) == 3 and r["more"] is True
    r = get(home, url, **only).json()
    assert len(r["objects"]) == 2 and r["more"] is True
    assert len(walk(home, url, **only)) == 6
    r = get(bsi, INBOX_URL + "objects/", limit=50).json()
    assert 1 <= len(r["objects"]) <= 3 and r["more"] is True
    assert len(walk(bsi, INBOX_URL + "objects/")) == 7


def test_cursors_never_expire_and_combine_with_added_after(taxii: Taxii, bsi: Caller) -> None:
    first = seed(bsi, 3, "a")
    page = get(bsi, INBOX_URL + "objects/", limit=2).json()
    cursor = page["next"]
    later = seed(bsi, 2, "b")
    taxii.node.set_setting("title", "changed")  # settings change, cursor still good
    rest = walk(bsi, INBOX_URL + "objects/", limit=2, next=cursor)
    everything = [bsi.party.id, *(o["id"] for o in first + later)]
    assert ids_of(page) + [o["id"] for o in rest] == everything
    assert 1 <= len(ids_of(page)) <= 2
    # A cursor and added_after together: start past both.
    manifest = without_seals(get(bsi, INBOX_URL + "manifest/").json()["objects"])
    late = manifest[4]["date_added"]
    both = get(bsi, INBOX_URL + "objects/", next=cursor, added_after=late).json()
    assert ids_of(both) == [m["id"] for m in manifest[5:]]


def ids_of(body: dict[str, Any]) -> list[str]:
    return [o["id"] for o in without_seals(body.get("objects", []))]


def test_gate_filters_before_limit_so_more_is_truthful(taxii: Taxii, bsi: Caller) -> None:
    home = taxii.home
    order = ["clear", "amber", "clear", "amber", "red", "clear", "amber", "amber"]
    objs = [indicator(f"mix-{n}", created_by=home.party.id, tlp=tlp) for n, tlp in enumerate(order)]
    for obj in objs:  # one by one, so that their dates follow this order
        post(home, obj)
    visible = [o["id"] for o, tlp in zip(objs, order, strict=True) if tlp == "clear"]
    url = RELEASED_URL + "objects/"
    for limit in (2, 3, 4):  # limit=1: see test_limit_one_is_kept_with_seals
        got = walk(bsi, url, limit=limit, **{"match[type]": "indicator"})
        assert [o["id"] for o in got] == visible
    # The last releasable object is followed only by withheld ones: more must be false.
    manifest = walk(bsi, RELEASED_URL + "manifest/", **{"match[type]": "indicator"})
    added = {m["id"]: m["date_added"] for m in manifest}
    after = added[visible[-2]]
    last = get(bsi, url, limit=2, added_after=after, **{"match[type]": "indicator"}).json()
    assert last["more"] is False and ids_of(last) == visible[-1:]
    # Asked for indicators only, the page carries no seals and holds `limit` of them.
    first = get(bsi, url, limit=2, **{"match[type]": "indicator"}).json()
    assert first["more"] is True and ids_of(first) == visible[:2]
    # The home party sees every one of them.
    assert [o["id"] for o in walk(home, url, limit=3, **{"match[type]": "indicator"})] == [
        o["id"] for o in objs
    ]


def test_limit_one_is_kept_with_seals(taxii: Taxii, bsi: Caller) -> None:
    post(taxii.home, indicator("one", created_by=taxii.home.party.id, tlp="clear"))
    got = get(bsi, RELEASED_URL + "objects/", limit=1, **{"match[type]": "indicator"}).json()
    assert len(got["objects"]) == 1


def test_filters_answer_only_matching_objects(taxii: Taxii, bsi: Caller) -> None:
    shared = indicator("seal-filter", created_by=taxii.home.party.id, tlp="clear")
    post(taxii.home, shared)
    for params in ({"match[type]": "indicator"}, {"match[id]": shared["id"]}):
        for endpoint in ("objects/", "manifest/"):
            got = get(bsi, RELEASED_URL + endpoint, **params).json()["objects"]
            assert [o["id"] for o in got] == [shared["id"]], (endpoint, params)


def test_withheld_objects_are_invisible_on_every_read_endpoint(taxii: Taxii, bsi: Caller) -> None:
    secret = indicator("secret", created_by=taxii.home.party.id, tlp="amber")
    post(taxii.home, secret)
    for path in (
        RELEASED_URL + f"objects/{secret['id']}/",
        RELEASED_URL + f"objects/{secret['id']}/versions/",
        INBOX_URL + f"objects/{secret['id']}/",
    ):
        assert_taxii_error(bsi.client.get(path), 404)
    for path in (RELEASED_URL + "objects/", RELEASED_URL + "manifest/", INBOX_URL + "objects/"):
        r = get(bsi, path, **{"match[id]": secret["id"]})
        assert r.json() == {"more": False}
        assert "x-taxii-date-added-first" not in r.headers
    assert_taxii_error(bsi.client.delete(INBOX_URL + f"objects/{secret['id']}/"), 404)
    assert ids(get(taxii.home, RELEASED_URL + f"objects/{secret['id']}/")) == [secret["id"]]


# --- versions and manifest ---------------------------------------------------------------------


def test_versions_and_their_headers(bsi: Caller) -> None:
    stamps = [f"2026-0{m}-01T00:00:00.000Z" for m in (1, 2, 3, 4)]
    for s in stamps:
        post(bsi, indicator("vv", created_by=bsi.party.id, modified=s))
    url = f"{INBOX_URL}objects/{indicator('vv')['id']}/versions/"
    r = get(bsi, url)
    assert r.json() == {"more": False, "versions": [s.replace(".000Z", ".000000Z") for s in stamps]}
    assert MICROSECONDS.match(r.headers["x-taxii-date-added-first"])
    assert r.headers["x-taxii-date-added-first"] < r.headers["x-taxii-date-added-last"]
    paged = walk(bsi, url, key="versions", limit=3)
    assert paged == r.json()["versions"]
    one = get(bsi, url.removesuffix("versions/"), **{"match[version]": "all"})
    assert len(one.json()["objects"]) == 4
    for header in ("x-taxii-date-added-first", "x-taxii-date-added-last"):
        assert one.headers[header] == r.headers[header]
    # No version left by the filter: the object is not found (as on the object endpoint).
    assert_taxii_error(bsi.client.get(url, params={"match[spec_version]": "2.0"}), 404)
    manifest = get(bsi, INBOX_URL + "manifest/", **{"match[version]": "all"}).json()["objects"]
    manifest = without_seals(manifest)
    assert [m["version"] for m in manifest if m["id"] == indicator("vv")["id"]] == r.json()[
        "versions"
    ]
    added_after = manifest[-3]["date_added"]
    tail = get(bsi, url, added_after=added_after).json()["versions"]
    assert tail == r.json()["versions"][-2:]


def test_delete_one_version_then_the_object(taxii: Taxii, bsi: Caller) -> None:
    v1 = indicator("d", created_by=bsi.party.id, modified="2026-01-01T00:00:00.000Z")
    v2 = indicator("d", created_by=bsi.party.id, modified="2026-02-01T00:00:00.000Z")
    post(bsi, v1, v2)
    url = f"{INBOX_URL}objects/{v1['id']}/"
    r = bsi.client.delete(url, params={"match[version]": "2026-02-01T00:00:00.000Z"})
    assert r.status_code == 200
    assert get(bsi, url).json()["objects"] == [v1]
    assert bsi.client.delete(url).status_code == 200
    assert_taxii_error(bsi.client.get(url), 404)
    assert_taxii_error(bsi.client.delete(url), 404)


def test_parties_delete_only_their_own(taxii: Taxii, bsi: Caller) -> None:
    theirs = indicator("theirs", created_by=taxii.home.party.id)
    post(taxii.home, theirs)
    for coll in (INBOX_URL, RELEASED_URL):
        r = bsi.client.delete(f"{coll}objects/{theirs['id']}/")
        assert r.status_code in (403, 404)
        assert_taxii_error(r, r.status_code)
    assert ids(get(taxii.home, f"{RELEASED_URL}objects/{theirs['id']}/")) == [theirs["id"]]
    mine = seed(bsi, 1)[0]
    assert taxii.home.client.delete(f"{RELEASED_URL}objects/{mine['id']}/").status_code == 200
    assert_taxii_error(bsi.client.get(f"{INBOX_URL}objects/{mine['id']}/"), 404)


def test_discovery_and_api_root_resources(reader: Caller) -> None:
    bsi = reader
    discovery = get(bsi, "/taxii2/").json()
    assert discovery["default"].endswith(API_ROOT)
    assert discovery["api_roots"] == [discovery["default"]]
    root = get(bsi, API_ROOT).json()
    assert root["versions"] == [MEDIA_TAXII]
    assert isinstance(root["max_content_length"], int)
    colls = get(bsi, f"{API_ROOT}collections/").json()["collections"]
    for c in colls:
        assert get(bsi, f"{API_ROOT}collections/{c['id']}/").json() == c
    assert {c["id"] for c in colls} >= {INBOX}


def test_error_resources_are_json_everywhere(reader: Caller) -> None:
    r = reader.client.get(f"{RELEASED_URL}objects/?limit=0")
    body = orjson.loads(r.content)
    assert set(body) <= {"title", "description", "error_id", "error_code", "http_status",
                         "external_details", "details"}  # fmt: skip
