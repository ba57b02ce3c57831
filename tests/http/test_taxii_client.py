"""A real uvicorn server on loopback, driven by the OASIS taxii2-client (taxii2client.v21).

Every object the server returns must pass the OASIS stix2-validator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from stix_factory import TLP, envelope, indicator, stix_errors, without_seals
from taxii2client.v21 import ApiRoot, Collection, Server, Status, as_pages
from taxii_harness import LiveServer

from kizuna.core.parties import Party
from kizuna.core.taxii import INBOX, MEDIA_TAXII, RELEASED
from kizuna.services import parties, tokens
from kizuna.services.node import Node


class Bearer(requests.auth.AuthBase):
    """``Authorization: Bearer TOKEN`` for requests (taxii2-client takes any requests auth)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


AuthFor = Callable[[Party, str], dict[str, Any]]

AUTHS: dict[str, AuthFor] = {
    "basic-name": lambda party, token: {"user": party.name, "password": token},
    "basic-id": lambda party, token: {"user": party.id, "password": token},
    "bearer": lambda party, token: {"auth": Bearer(token)},
}


@pytest.fixture
def partner(node: Node) -> tuple[Party, str]:
    party = parties.add_party(node, "BSI", jurisdiction="DE", kind="government", scheme="DE")
    return party, tokens.create(node, party.id).value


@pytest.fixture(params=sorted(AUTHS))
def server(
    request: pytest.FixtureRequest, live: LiveServer, partner: tuple[Party, str]
) -> Iterator[Server]:
    party, token = partner
    with Server(f"{live.url}/taxii2/", **AUTHS[request.param](party, token)) as s:
        yield s


def collection(root: ApiRoot, collection_id: str) -> Collection:
    [found] = [c for c in root.collections if c.id == collection_id]
    return found


def valid(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assert every object passes the OASIS validator; return them."""
    for obj in objects:
        assert stix_errors(obj) == [], obj
    return objects


def all_pages(fetch: Callable[..., dict[str, Any]], per_request: int, key: str) -> list[Any]:
    """Page with taxii2-client's as_pages, checking each page's size and more/next.

    Every item over every page, seals left out; STIX objects must pass the validator.
    """
    items: list[Any] = []
    pages = list(as_pages(fetch, per_request=per_request))
    for n, page in enumerate(pages):
        last = n == len(pages) - 1
        assert page.get("more", False) is not last
        assert ("next" in page) is not last
        assert 0 < len(page.get(key, [])) <= per_request or (last and n == 0)
        items.extend(page.get(key, []))
    if all("type" in i for i in items):  # objects, not manifest entries
        valid(items)  # seals too: every object the server sends must pass the validator
    return without_seals(items)


def test_discovery_api_root_and_collections(server: Server, live: LiveServer) -> None:
    assert server.title == "kizuna node"
    assert [r.url for r in server.api_roots] == [f"{live.url}/taxii2/root/"]
    root = server.default
    assert root is not None and root.url == f"{live.url}/taxii2/root/"
    assert root.versions == [MEDIA_TAXII]
    assert root.max_content_length == live.node.settings()["max_content_length"]
    by_id = {c.id: c for c in root.collections}
    assert set(by_id) == {INBOX, RELEASED}
    assert (by_id[INBOX].can_read, by_id[INBOX].can_write) == (True, True)
    assert (by_id[RELEASED].can_read, by_id[RELEASED].can_write) == (True, False)
    assert by_id[INBOX].media_types == ["application/stix+json;version=2.1"]


def test_post_poll_page_manifest_versions_get_and_delete(
    server: Server, live: LiveServer, partner: tuple[Party, str]
) -> None:
    party, _ = partner
    root = server.default
    inbox = collection(root, INBOX)
    mine = [indicator(f"ioc-{n}", created_by=party.id, tlp="amber") for n in range(11)]
    newer = indicator(
        "ioc-3", created_by=party.id, tlp="amber", modified="2026-02-01T00:00:00.000Z"
    )

    status = inbox.add_objects(envelope(*mine), wait_for_completion=False)
    status.wait_until_final(poll_interval=0.05, timeout=10)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (11, 11, 0)
    assert status.pending_count == 0
    assert {s["id"] for s in status.successes} == {o["id"] for o in mine}
    second = inbox.add_objects({"objects": [newer]}, poll_interval=0.05, timeout=10)
    assert second.success_count == 1
    polled = root.get_status(second.id)
    assert isinstance(polled, Status) and polled.success_count == 1

    # Paging the inbox: the partner's identity and its indicators, latest versions only.
    objects = valid(all_pages(inbox.get_objects, 4, "objects"))
    expected = {o["id"]: o for o in mine} | {newer["id"]: newer}
    indicators = {o["id"]: o for o in objects if o["type"] == "indicator"}
    assert indicators == expected
    assert [o["id"] for o in objects if o["type"] == "identity"] == [party.id]
    assert len(objects) == len(expected) + 1

    manifest = all_pages(inbox.get_manifest, 5, "objects")
    assert [m["id"] for m in manifest] == [o["id"] for o in objects]
    by_id = {m["id"]: m for m in manifest}
    assert by_id[newer["id"]]["version"] == "2026-02-01T00:00:00.000000Z"
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)
    dates = [m["date_added"] for m in manifest]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)

    versions = inbox.object_versions(newer["id"])
    assert versions == {
        "more": False,
        "versions": ["2026-01-01T00:00:00.000000Z", "2026-02-01T00:00:00.000000Z"],
    }
    assert valid(inbox.get_object(newer["id"])["objects"]) == [newer]
    both = valid(inbox.get_object(newer["id"], version="all")["objects"])
    assert [o["modified"] for o in both] == [o["modified"] for o in (mine[3], newer)]
    first = inbox.get_object(newer["id"], version="2026-01-01T00:00:00.000Z")["objects"]
    assert first == [mine[3]]

    # The same objects through the collection of everything released to the partner.
    released = collection(root, RELEASED)
    seen = valid(all_pages(released.get_objects, 3, "objects"))
    assert {o["id"] for o in seen} >= set(expected)

    inbox.delete_object(mine[0]["id"])
    with pytest.raises(requests.HTTPError) as gone:
        inbox.get_object(mine[0]["id"])
    assert gone.value.response is not None
    assert gone.value.response.status_code == 404
    assert gone.value.response.json()["http_status"] == "404"
    left = {o["id"] for o in all_pages(inbox.get_objects, 100, "objects")}
    assert mine[0]["id"] not in left and mine[1]["id"] in left


def test_filters_through_the_client(
    server: Server, partner: tuple[Party, str], live: LiveServer
) -> None:
    party, _ = partner
    inbox = collection(server.default, INBOX)
    objs = [indicator(f"f-{n}", created_by=party.id) for n in range(6)]
    inbox.add_objects(envelope(*objs), poll_interval=0.05)
    picked = [objs[1]["id"], objs[4]["id"]]
    got = valid(inbox.get_objects(id=",".join(picked))["objects"])
    # In date_added order: one post's objects take random dates in its window.
    assert sorted(o["id"] for o in without_seals(got)) == sorted(picked)
    identities = without_seals(inbox.get_objects(type="identity")["objects"])
    assert [o["type"] for o in identities] == ["identity"]
    manifest = without_seals(inbox.get_manifest()["objects"])
    after = manifest[2]["date_added"]
    later = without_seals(inbox.get_objects(added_after=after)["objects"])
    assert [o["id"] for o in later] == [m["id"] for m in manifest[3:]]
    assert inbox.get_objects(spec_version="2.0") == {"more": False}


def test_partner_sees_only_what_the_gate_releases(
    server: Server, live: LiveServer, partner: tuple[Party, str]
) -> None:
    node = live.node
    home_clear = indicator("home-clear", created_by=node.home_party.id, tlp="clear")
    home_amber = indicator("home-amber", created_by=node.home_party.id, tlp="amber")
    home_token = tokens.create(node, node.home_party.id).value
    with Server(f"{live.url}/taxii2/", auth=Bearer(home_token)) as as_home:
        home_inbox = collection(as_home.default, INBOX)
        home_inbox.add_objects(envelope(home_clear, home_amber), poll_interval=0.05)
        everything = all_pages(collection(as_home.default, RELEASED).get_objects, 50, "objects")
        assert {home_clear["id"], home_amber["id"]} <= {o["id"] for o in everything}
    released = collection(server.default, RELEASED)
    ids = {o["id"] for o in valid(all_pages(released.get_objects, 2, "objects"))}
    assert home_clear["id"] in ids
    assert home_amber["id"] not in ids
    with pytest.raises(requests.HTTPError) as refused:
        released.get_object(home_amber["id"])
    assert refused.value.response is not None
    assert refused.value.response.status_code == 404
    assert home_amber["name"] not in refused.value.response.text
    assert TLP["amber"] not in str(ids)


def test_headers_on_the_wire(live: LiveServer, partner: tuple[Party, str]) -> None:
    party, token = partner
    base = f"{live.url}/taxii2/root/collections/{INBOX}/"
    with requests.Session() as http:
        http.auth = (party.name, token)
        posted = http.post(
            base + "objects/",
            data=envelope(*(indicator(f"h-{n}", created_by=party.id) for n in range(3))),
            headers={"Content-Type": "application/taxii+json", "Accept": "application/taxii+json"},
        )
        assert posted.status_code == 202
        assert posted.headers["Content-Type"] == MEDIA_TAXII
        page = http.get(base + "objects/", params={"limit": 3})
        body = page.json()
        assert page.headers["Content-Type"] == MEDIA_TAXII
        assert page.headers["X-TAXII-Date-Added-First"] <= page.headers["X-TAXII-Date-Added-Last"]
        assert body["more"] is True and body["next"]
        manifest = http.get(base + "manifest/", params={"limit": 3}).json()["objects"]
        # The manifest lists the objects of the same page; the seals travelling with them are
        # not entries of their own.
        objects = [o["id"] for o in body["objects"] if o["type"] != "x-kizuna-seal"]
        assert [m["id"] for m in manifest] == objects
        assert page.headers["X-TAXII-Date-Added-First"] == manifest[0]["date_added"]
        assert page.headers["X-TAXII-Date-Added-Last"] == manifest[-1]["date_added"]
        anonymous = requests.get(base + "objects/")
        assert anonymous.status_code == 401
        assert "Basic" in anonymous.headers["WWW-Authenticate"]
        assert "Bearer" in anonymous.headers["WWW-Authenticate"]
        assert anonymous.headers["Content-Type"] == MEDIA_TAXII
        assert anonymous.json()["http_status"] == "401"


def test_body_limit_on_the_wire(live: LiveServer, partner: tuple[Party, str]) -> None:
    party, token = partner
    live.node.set_setting("max_content_length", "2048")
    url = f"{live.url}/taxii2/root/collections/{INBOX}/objects/"
    headers = {"Content-Type": MEDIA_TAXII, "Accept": MEDIA_TAXII}
    big = envelope(*(indicator(f"big-{n}", created_by=party.id) for n in range(20)))
    assert len(big) > 2048

    def chunked() -> Iterator[bytes]:
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    with requests.Session() as http:
        http.auth = Bearer(token)
        for data in (big, chunked()):
            refused = http.post(url, data=data, headers=headers)
            assert refused.status_code == 413
            assert refused.headers["Content-Type"] == MEDIA_TAXII
            assert refused.json()["http_status"] == "413"
        small = http.post(
            url, data=envelope(indicator("small", created_by=party.id)), headers=headers
        )
        assert small.status_code == 202
        listed = without_seals(http.get(url).json()["objects"])
    assert {o["id"] for o in listed} == {party.id, indicator("small")["id"]}
