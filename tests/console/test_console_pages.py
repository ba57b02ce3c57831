"""The console over HTTP (the real app, in process): sessions, headers, the gate, escaping, roles.

A partner's analyst sees exactly what the partner's TAXII view holds; object content is text,
never markup; a person without the role cannot do what the role allows, even by posting the form.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson
import pytest
from console_world import PASSWORD, SCRIPT, World, csrf_of, log_in
from fastapi.testclient import TestClient

from kizuna.core import agreements as core
from kizuna.core.protocol import PROTOCOL_TYPES
from kizuna.core.seals import SEAL_TYPE
from kizuna.core.taxii import RELEASED
from kizuna.http.app import create_app
from kizuna.services import agreements, consents, tokens, users
from kizuna.services import ledger as ledger_service

Person = Callable[[str], TestClient]
LINKED = re.compile(r'href="/object/([^"]+)"')
TAXII = "application/taxii+json;version=2.1"
NOT_BROWSED = {SEAL_TYPE, *PROTOCOL_TYPES, "marking-definition", "extension-definition"}


def linked(html: str) -> set[str]:
    return {i.replace("%2D", "-") for i in LINKED.findall(html)}


def taxii_view(world: World, party: str) -> set[str]:
    """Ids of the objects the party's TAXII collection holds (what a person browses)."""
    token = tokens.create(world.node, party).value
    http = TestClient(
        create_app(world.node), headers={"Authorization": f"Bearer {token}", "Accept": TAXII}
    )
    base = f"/taxii2/root/collections/{RELEASED}/objects/"
    url = base
    out: set[str] = set()
    while url:
        r = http.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        out |= {o["id"] for o in body.get("objects", []) if o["type"] not in NOT_BROWSED}
        url = f"{base}?next={body['next']}" if (body.get("more")) else ""
    return out


def test_login_sets_a_strict_session_cookie_and_every_page_has_the_headers(world: World) -> None:
    http = TestClient(create_app(world.node), base_url="https://testserver")
    first = http.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/login")
    page = http.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and page.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline
    r = http.post(
        "/login",
        data={"csrf": csrf_of(page.text), "user": "aiko", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "kizuna_session=" in cookie and "httponly" in cookie
    assert "samesite=strict" in cookie and "secure" in cookie
    assert http.get("/").status_code == 200
    plain = TestClient(create_app(world.node))  # over plain HTTP: no Secure flag
    r = plain.post(
        "/login",
        data={"csrf": csrf_of(plain.get("/login").text), "user": "aiko", "password": PASSWORD},
        follow_redirects=False,
    )
    assert "secure" not in r.headers["set-cookie"].lower()


def test_login_refuses_without_its_csrf_token_and_limits_failures(world: World) -> None:
    http = TestClient(create_app(world.node))
    token = csrf_of(http.get("/login").text)
    r = http.post("/login", data={"csrf": "forged", "user": "aiko", "password": PASSWORD})
    assert r.status_code == 403 and "kizuna_session" not in r.headers.get("set-cookie", "")
    for _ in range(users.FAILURES_PER_NAME):
        r = http.post("/login", data={"csrf": token, "user": "aiko", "password": "wrong guess!!"})
        assert r.status_code == 401 and "wrong user name or password" in r.text
    r = http.post("/login", data={"csrf": token, "user": "aiko", "password": PASSWORD})
    assert r.status_code == 429 and "too many failed logins" in r.text


def test_logout_and_revocation_end_the_session(world: World, person: Person) -> None:
    aiko = person("aiko")
    home = aiko.get("/")
    assert (
        aiko.post("/logout", data={"csrf": csrf_of(home.text)}, follow_redirects=False).status_code
        == 303
    )
    assert aiko.get("/", follow_redirects=False).status_code == 303
    ken = person("ken")
    users.revoke_sessions(world.node, "ken")
    assert ken.get("/ledger", follow_redirects=False).status_code == 303


def test_a_partners_analyst_sees_exactly_the_partners_taxii_view(
    world: World, person: Person
) -> None:
    hans = person("hans")
    view = taxii_view(world, "BSI")
    assert world.objects["red"] not in view and world.objects["clear"] in view
    # Search: everything, then each criterion, each a subset of the view.
    everything = linked(hans.get("/search", params={"since": "2000-01-01"}).text)
    assert everything == view
    for params in (
        {"q": "198.51.100"},
        {"type": "indicator"},
        {"label": "apt"},
        {"marking": "TLP:GREEN"},
        {"originator": "CERT-EU"},
    ):
        found = linked(hans.get("/search", params=params).text)
        assert found <= view, params
    assert linked(hans.get("/search", params={"q": "198.51.100.4"}).text) == set()  # RED
    # Home: what arrived and the sightings, within the view.
    assert linked(hans.get("/").text) <= view
    # An object outside the view is not found, one inside is shown.
    assert hans.get(f"/object/{world.objects['red']}").status_code == 404
    assert hans.get(f"/object/{world.objects['clear']}").status_code == 200
    # The home party's pages are not a partner's.
    for page in ("/ledger", "/partners", "/partners/NISC", "/consents"):
        assert hans.get(page).status_code == 403, page
    # What the console showed BSI's person is on the ledger as released to BSI.
    released = {
        e.object_id for e in ledger_service.show(world.node) if e.recipient == world.party["BSI"].id
    }
    assert world.objects["clear"] in released and world.objects["red"] not in released


def test_the_home_analyst_sees_everything_held(world: World, person: Person) -> None:
    aiko = person("aiko")
    assert linked(aiko.get("/search", params={"since": "2000-01-01"}).text) == taxii_view(
        world, "CERT-EU"
    )
    assert set(world.objects.values()) <= linked(
        aiko.get("/search", params={"since": "2000-01-01"}).text
    )
    red = aiko.get("/search", params={"q": "198.51.100.4"}).text
    assert linked(red) == {world.objects["red"]}
    cve = aiko.get("/search", params={"q": "cve-2026-12345"}).text
    assert linked(cve) == {world.objects["cve"]}
    bad = aiko.get("/search", params={"since": "yesterday"})
    assert bad.status_code == 400 and "is not a date" in bad.text


def test_object_content_stays_text(world: World, person: Person) -> None:
    aiko = person("aiko")
    for url in (f"/object/{world.objects['script']}", "/search?q=198.51.100.1", "/"):
        html = aiko.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html, url
    html = aiko.get(f"/object/{world.objects['script']}").text
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in html
    assert SCRIPT not in html


def test_object_page_explains_for_every_partner_and_shows_versions(
    world: World, person: Person
) -> None:
    html = person("aiko").get(f"/object/{world.objects['red']}").text
    rows = re.findall(r"<tr><td>(BSI|NISC)</td><td class=\"outcome-(\w+)\">", html)
    assert rows == [("BSI", "withhold"), ("NISC", "withhold")]
    assert "rule-5-tlp" in html
    versions = person("aiko").get(f"/object/{world.objects['clear']}").text
    assert "198.51.100.22" in versions and '<pre class="diff">' in versions


def test_partner_preview_gives_the_reason_for_each_withheld_object(
    world: World, person: Person
) -> None:
    html = person("aiko").get("/partners/BSI").text
    red = html[html.index(world.objects["red"]) :]
    red = red[: red.index("</tr>")]
    assert "withheld" in red and "rule-5-tlp" in red
    assert "nothing was released" in html
    assert ledger_service.show(world.node) == []  # a preview is not a release


def test_a_publisher_answers_consent_requests(world: World, person: Person) -> None:
    aiko = person("aiko")
    page = aiko.get("/consents").text
    assert world.request in page
    r = aiko.post(
        f"/consents/{world.request}/grant",
        data={"csrf": csrf_of(page), "days": "30"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    granted = consents.list_consents(world.node, "CERT-EU")
    assert [(sorted(c.objects), sorted(c.parties)) for c in granted] == [
        ([world.objects["amber"]], [world.party["NISC"].id])
    ]
    assert world.request not in aiko.get("/consents").text.split("Consents given")[0]
    done = [(a.user_name, a.action) for a in users.actions(world.node)]
    assert ("aiko", f"consent grant {world.request} as {granted[0].id}") in done


def test_a_refusal_needs_a_reason_and_is_recorded(world: World, person: Person) -> None:
    aiko = person("aiko")
    token = csrf_of(aiko.get("/consents").text)
    r = aiko.post(f"/consents/{world.request}/refuse", data={"csrf": token, "reason": " "})
    assert r.status_code == 400 and "reason" in r.text
    aiko.post(f"/consents/{world.request}/refuse", data={"csrf": token, "reason": "not yet"})
    assert world.request not in aiko.get("/consents").text
    assert consents.list_consents(world.node, "CERT-EU") == []


def test_signing_an_agreement_with_the_node_key_and_by_upload(world: World, person: Person) -> None:
    aiko = person("aiko")
    page = aiko.get("/agreements").text
    assert f'action="/agreements/{world.draft}/sign"' in page
    r = aiko.post(
        f"/agreements/{world.draft}/sign",
        data={"csrf": csrf_of(page), "version": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert agreements.get(world.node, world.draft).agreement.state == "active"
    # NISC signs offline; a publisher uploads the signed document.
    document = dict(agreements.get(world.node, world.offline).agreement.document)
    signed = core.sign_document(document, world.party["NISC"].id, world.keys["NISC"])
    r = aiko.post(
        "/agreements/upload",
        data={"csrf": csrf_of(page)},
        files={"document": ("signed.json", orjson.dumps(signed), "application/json")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert agreements.get(world.node, world.offline).agreement.state == "active"
    broken = aiko.post(
        "/agreements/upload",
        data={"csrf": csrf_of(page)},
        files={"document": ("x.json", b"{not json", "application/json")},
    )
    assert broken.status_code == 400 and "not a JSON or YAML" in broken.text


def test_import_reports_per_file_and_records_the_person(world: World, person: Person) -> None:
    ana = person("ana")
    token = csrf_of(ana.get("/import").text)
    good = {
        "type": "bundle",
        "id": "bundle--11111111-1111-4111-8111-111111111111",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--11111111-1111-4111-8111-111111111111",
                "created": "2026-03-01T00:00:00.000Z",
                "modified": "2026-03-01T00:00:00.000Z",
                "pattern": "[domain-name:value = 'evil.example']",
                "pattern_type": "stix",
                "valid_from": "2026-03-01T00:00:00Z",
            }
        ],
    }
    r = ana.post(
        "/import",
        data={"csrf": token},
        files=[
            ("files", ("good.json", orjson.dumps(good), "application/json")),
            ("files", ("bad.json", b"[1, 2", "application/json")),
        ],
    )
    assert r.status_code == 200
    rows = re.findall(r"<tr><td>([^<]+)</td>\s*<td>(\d+)</td>", r.text)
    assert ("good.json", "1") in rows
    assert "bad.json" in r.text
    assert any(
        a.user_name == "ana" and a.action.startswith("import good.json: 1 stored")
        for a in users.actions(world.node)
    )


@pytest.mark.parametrize(
    ("user", "url", "data"),
    [
        ("ana", "/consents/{request}/grant", {"days": "30"}),  # analyst is no publisher
        ("ken", "/agreements/{draft}/sign", {"version": "1"}),  # auditor is no publisher
        ("ken", "/import", {}),  # auditor is no analyst
        ("hans", "/consents/{request}/grant", {"days": "30"}),  # a partner's publisher
        ("hans", "/agreements/{draft}/sign", {"version": "1"}),
    ],
)
def test_posting_the_form_directly_without_the_role_is_refused(
    world: World, person: Person, user: str, url: str, data: dict[str, str]
) -> None:
    client = person(user)
    token = csrf_of(client.get("/").text)
    target = url.format(request=world.request, draft=world.draft)
    r = client.post(target, data={"csrf": token, **data})
    assert r.status_code == 403, r.text
    assert consents.list_consents(world.node, "CERT-EU") == []
    assert agreements.get(world.node, world.draft).agreement.state == "draft"
    assert any(a.user_name == user and a.outcome == 403 for a in users.actions(world.node))


def test_a_form_without_its_csrf_token_does_nothing(world: World, person: Person) -> None:
    aiko = person("aiko")
    for data in ({"days": "30"}, {"days": "30", "csrf": "forged"}):
        r = aiko.post(f"/consents/{world.request}/grant", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    assert consents.list_consents(world.node, "CERT-EU") == []
    anonymous = TestClient(create_app(world.node))
    assert anonymous.post(f"/consents/{world.request}/grant", data={"days": "1"}).status_code == 401


def test_the_ledger_page_is_for_auditors(world: World, person: Person) -> None:
    person("hans").get(f"/object/{world.objects['clear']}")  # a release to BSI
    html = person("ken").get("/ledger").text
    assert "hash chain intact" in html and world.objects["clear"] in html
    assert person("ana").get("/ledger").status_code == 403


def test_login_page_redirects_only_inside_the_node(world: World) -> None:
    http = log_in(TestClient(create_app(world.node)), "aiko")
    token = csrf_of(http.get("/login").text)
    r = http.post(
        "/login",
        data={"csrf": token, "user": "aiko", "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"
