"""Every route and export path goes through THE GATE (DESIGN.md "Layers").

The table below classifies every route of ``create_app(node)`` as releasing objects or not, with
the reason; a test fails when the app has a route the table does not classify (or the table
names one the app lacks), so a new route cannot skip this review. Each route is then called as a
partner with an object withheld from it (TLP:AMBER, no agreement) and one released (TLP:CLEAR)
in the store: the withheld object's id and content never appear in any response, the released
one does where the call asks for it, and the gate's decision counter moves on every call that
releases. The same holds for ``services.export`` and ``kizuna export --to PARTY``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from stix_factory import TAXII_HEADERS, TLP, envelope, indicator, stix_id
from taxii_harness import Caller, Taxii, fresh_node, make_taxii

from kizuna.cli.main import cli
from kizuna.core.cvd.case import Vulnerability
from kizuna.core.parties import Party
from kizuna.core.taxii import INBOX, RELEASED
from kizuna.services import attribution, cvd, export, ledger, view
from kizuna.services.node import Node
from kizuna.storage.schema import objects

RELEASED_CANARY = "canary-released-7d1f0c"
WITHHELD_CANARY = "canary-withheld-93ab54"


@dataclass(frozen=True)
class Call:
    """One request a partner makes. Placeholders: {released} {withheld} {status} {report}."""

    method: str
    path: str
    body: bytes | None = None
    shows_released: bool = False  # the released object's content must be in the answer
    judges_withheld: bool = False  # the withheld object is in scope: the gate must withhold it


@dataclass(frozen=True)
class Route:
    releases: bool
    why: str
    calls: tuple[Call, ...]


T = "/taxii2/root/collections"
# The console's pages answer a person's session, never a token: called with the partner's token
# they send it to the login page. What a partner's person sees there is its party's TAXII view,
# through the same gate (services.console); tests/console/test_console_pages.py checks every
# listing page against the partner's TAXII view.
CONSOLE = "console page: a session, not a token (see tests/console)"
OBJ = f"{T}/{{collection_id}}/objects/{{object_id}}/"

ROUTES: dict[str, Route] = {
    # --- TAXII 2.1 --------------------------------------------------------------------------
    "GET /taxii2/": Route(False, "discovery resource: server and API root only", (
        Call("GET", "/taxii2/"),)),
    "GET /taxii2/root/": Route(False, "API root resource: title, versions, limits", (
        Call("GET", "/taxii2/root/"),)),
    "GET /taxii2/root/collections/": Route(False, "collection descriptions only", (
        Call("GET", f"{T}/"),)),
    "GET /taxii2/root/collections/{collection_id}/": Route(False, "one collection's description", (
        Call("GET", f"{T}/{RELEASED}/"), Call("GET", f"{T}/{INBOX}/"))),
    "GET /taxii2/root/collections/{collection_id}/objects/": Route(True, "objects", (
        Call("GET", f"{T}/{RELEASED}/objects/", shows_released=True, judges_withheld=True),
        Call("GET", f"{T}/{RELEASED}/objects/?match[version]=all&match[type]=indicator&limit=1",
             shows_released=True, judges_withheld=True),
        Call("GET", f"{T}/{RELEASED}/objects/?match[id]={{withheld}}", judges_withheld=True),
        Call("GET", f"{T}/{RELEASED}/objects/?match[type]=report", judges_withheld=False),
        Call("GET", f"{T}/{INBOX}/objects/"))),
    "POST /taxii2/root/collections/{collection_id}/objects/": Route(
        False, "ingest: the status resource names only the caller's own submissions", (
            Call("POST", f"{T}/{INBOX}/objects/", envelope(indicator("partner-post"))),)),
    "GET /taxii2/root/collections/{collection_id}/manifest/": Route(True, "ids and versions", (
        Call("GET", f"{T}/{RELEASED}/manifest/", judges_withheld=True),
        Call("GET", f"{T}/{RELEASED}/manifest/?match[id]={{withheld}}", judges_withheld=True))),
    f"GET {OBJ}": Route(True, "one object's versions", (
        Call("GET", f"{T}/{RELEASED}/objects/{{released}}/", shows_released=True),
        Call("GET", f"{T}/{RELEASED}/objects/{{withheld}}/", judges_withheld=True),
        Call("GET", f"{T}/{RELEASED}/objects/{{withheld}}/?match[version]=all",
             judges_withheld=True),
        Call("GET", f"{T}/{RELEASED}/objects/{{report}}/"))),
    f"DELETE {OBJ}": Route(False, "deletes the caller's own objects; answers no content", (
        Call("DELETE", f"{T}/{INBOX}/objects/{{withheld}}/"),
        Call("DELETE", f"{T}/{RELEASED}/objects/{{withheld}}/"))),
    f"GET {OBJ}versions/": Route(True, "version timestamps of one object", (
        Call("GET", f"{T}/{RELEASED}/objects/{{released}}/versions/"),
        Call("GET", f"{T}/{RELEASED}/objects/{{withheld}}/versions/", judges_withheld=True))),
    "GET /taxii2/root/status/{status_id}/": Route(False, "the caller's own POST's status", (
        Call("GET", "/taxii2/root/status/{status}/"),)),
    # --- JSON API -----------------------------------------------------------------------------
    "GET /api/node": Route(False, "node version, home party and caller", (
        Call("GET", "/api/node"),)),
    "GET /api/parties": Route(False, "the federation's party registry (public identities)", (
        Call("GET", "/api/parties"),)),
    "GET /api/objects": Route(True, "objects", (
        Call("GET", "/api/objects", shows_released=True, judges_withheld=True),
        Call("GET", "/api/objects?type=indicator&limit=1", shows_released=True,
             judges_withheld=True))),
    "GET /api/objects/{object_id}": Route(True, "one object", (
        Call("GET", "/api/objects/{released}", shows_released=True),
        Call("GET", "/api/objects/{withheld}", judges_withheld=True),
        Call("GET", "/api/objects/{report}"))),
    "POST /api/objects": Route(False, "ingest: the report names only the caller's own objects", (
        Call("POST", "/api/objects", envelope(indicator("partner-api-post"))),)),
    "GET /api/export": Route(True, "a bundle of everything released to the caller", (
        Call("GET", "/api/export", shows_released=True, judges_withheld=True),
        Call("GET", "/api/export?to=CERT-EU"))),
    # --- trust framework (JSON API) ----------------------------------------------------------
    "GET /api/agreements": Route(False, "agreement documents (their own table) of the caller", (
        Call("GET", "/api/agreements"),)),
    "GET /api/agreements/{agreement_id}": Route(False, "one agreement's versions, to its parties", (
        Call("GET", "/api/agreements/agreement--00000000-0000-4000-8000-000000000000"),)),
    "POST /api/agreements": Route(False, "imports an agreement document", (
        Call("POST", "/api/agreements", b"{}"),)),
    "POST /api/agreements/{agreement_id}/{action}": Route(False, "home party's lifecycle", (
        Call("POST", "/api/agreements/agreement--00000000-0000-4000-8000-000000000000/suspend"),)),
    "GET /api/consents": Route(False, "consent records, to their originator and named parties", (
        Call("GET", "/api/consents"),)),
    "POST /api/consents": Route(False, "stores the caller's own signed consent", (
        Call("POST", "/api/consents", b"{}"),)),
    "GET /api/explain": Route(False, "decisions on the caller's own objects only (rule 1)", (
        Call("GET", "/api/explain?object={withheld}&to=BSI"),
        Call("GET", "/api/explain?object={released}&to=BSI"))),
    "GET /api/preview": Route(False, "the home party's own view (rule 0); others get 403", (
        Call("GET", "/api/preview?to=BSI&withheld=true"),)),
    "GET /api/audit": Route(False, "ledger entries of the caller's own objects only", (
        Call("GET", "/api/audit"), Call("GET", "/api/audit?object={withheld}"))),
    "GET /api/audit/verify": Route(False, "the home party's ledger check", (
        Call("GET", "/api/audit/verify"),)),
    # --- joint attribution (JSON API) -----------------------------------------------------------
    "GET /api/attribution/cases": Route(True, "the cases the gate releases to the caller", (
        Call("GET", "/api/attribution/cases"),)),
    "GET /api/attribution/cases/{case_id}": Route(True, "a case's objects through the gate", (
        Call("GET", "/api/attribution/cases/{case}"),
        Call("GET", "/api/attribution/cases/{withheld}"))),
    "POST /api/attribution/cases": Route(False, "home party only; others get 403", (
        Call("POST", "/api/attribution/cases", b"{}"),)),
    **{
        f"POST /api/attribution/cases/{{case_id}}/{part}": Route(
            False, "home party only; others get 403", (
                Call("POST", f"/api/attribution/cases/{{case}}/{part}", b"{}"),))
        for part in ("hypotheses", "evidence", "ratings", "assessments", "statements")
    },
    **{
        f"POST /api/attribution/statements/{{statement_id}}/{part}": Route(
            False, "home party only; others get 403", (
                Call("POST", f"/api/attribution/statements/{{withheld}}/{part}", b"{}"),))
        for part in ("decision", "release")
    },
    # --- coordinated vulnerability disclosure (JSON API) ------------------------------------------
    "GET /api/cvd/cases": Route(True, "the cases the gate releases to the caller", (
        Call("GET", "/api/cvd/cases"),)),
    "GET /api/cvd/cases/{case_id}": Route(True, "a case's objects through the gate", (
        Call("GET", "/api/cvd/cases/{cvd}"),
        Call("GET", "/api/cvd/cases/{withheld}"))),
    "POST /api/cvd/cases": Route(False, "home party only; others get 403", (
        Call("POST", "/api/cvd/cases", b"{}"),)),
    **{
        f"POST /api/cvd/cases/{{case_id}}/{part}": Route(
            False, "acts on a case: a partner that may not see it gets the unknown-case 404, "
            "the invited party its own answer, the vendor's party its own status", (
                Call("POST", f"/api/cvd/cases/{{cvd}}/{part}", b"{}"),
                Call("POST", f"/api/cvd/cases/{{withheld}}/{part}", b"{}")))
        for part in ("invite", "accept", "decline", "status", "vex", "embargo/propose",
                     "embargo/accept", "embargo/exit", "statements", "ssvc", "cvss", "advisory")
    },
    "POST /api/cvd/cases/{case_id}/statements/{statement_id}": Route(
        False, "home party only; a partner that may not see the case gets 404", (
            Call("POST", "/api/cvd/cases/{cvd}/statements/{withheld}", b"{}"),)),
    # --- federation (JSON API) ------------------------------------------------------------------
    "GET /api/peers": Route(False, "the home party's peer list; others get 403", (
        Call("GET", "/api/peers"),)),
    "POST /api/peers/sync": Route(
        False, "home party only: runs a sync; answers its counts, no objects", (
            Call("POST", "/api/peers/sync"),)),
    # --- operations and documentation --------------------------------------------------------
    "GET /metrics": Route(False, "counters only: no ids, no content", (Call("GET", "/metrics"),)),
    "GET /healthz": Route(False, "liveness only", (Call("GET", "/healthz"),)),
    "GET /readyz": Route(False, "readiness only", (Call("GET", "/readyz"),)),
    "GET /api/openapi.json": Route(False, "the API's description", (
        Call("GET", "/api/openapi.json"),)),
    "GET /api/docs": Route(False, "the API's documentation page", (Call("GET", "/api/docs"),)),
    "GET /api/docs/{asset}": Route(False, "the documentation page's script and style", (
        Call("GET", "/api/docs/swagger-ui-bundle.js"),)),
    "GET /login": Route(False, CONSOLE, (Call("GET", "/login"),)),
    "POST /login": Route(False, CONSOLE, (Call("POST", "/login"),)),
    "POST /logout": Route(False, CONSOLE, (Call("POST", "/logout"),)),
    "GET /static/{name}": Route(False, CONSOLE, (Call("GET", "/static/console.css"),)),
    "GET /": Route(False, CONSOLE, (Call("GET", "/"),)),
    "GET /search": Route(False, CONSOLE, (Call("GET", "/search?q=canary"),)),
    "GET /object/{object_id}": Route(False, CONSOLE, (Call("GET", "/object/{withheld}"),)),
    "GET /partners": Route(False, CONSOLE, (Call("GET", "/partners"),)),
    "GET /partners/{name}": Route(False, CONSOLE, (Call("GET", "/partners/BSI"),)),
    "GET /consents": Route(False, CONSOLE, (Call("GET", "/consents"),)),
    "GET /agreements": Route(False, CONSOLE, (Call("GET", "/agreements"),)),
    "GET /import": Route(False, CONSOLE, (Call("GET", "/import"),)),
    "GET /ledger": Route(False, CONSOLE, (Call("GET", "/ledger"),)),
    "GET /cvd": Route(False, CONSOLE, (Call("GET", "/cvd"),)),
    "GET /attribution": Route(False, CONSOLE, (Call("GET", "/attribution"),)),
    "POST /consents/{request_id}/grant": Route(False, CONSOLE, (
        Call("POST", "/consents/x/grant"),)),
    "POST /consents/{request_id}/refuse": Route(False, CONSOLE, (
        Call("POST", "/consents/x/refuse"),)),
    "POST /agreements/{agreement_id}/sign": Route(False, CONSOLE, (
        Call("POST", "/agreements/x/sign"),)),
    "POST /agreements/upload": Route(False, CONSOLE, (Call("POST", "/agreements/upload"),)),
    "POST /import": Route(False, CONSOLE, (Call("POST", "/import"),)),
}  # fmt: skip


def app_routes(app: FastAPI) -> set[str]:
    """Every (method, path) the app serves; HEAD goes with GET."""
    out: set[str] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path
        methods = getattr(route, "methods", None) or set()
        assert path is not None
        out |= {f"{m} {path}" for m in methods if m != "HEAD"}
    return out


@dataclass
class World:
    """A node holding one object released to the partner and objects withheld from it."""

    face: Taxii
    partner: Caller
    released: dict[str, Any]
    withheld: dict[str, Any]
    relationship: dict[str, Any]
    report: dict[str, Any]
    status: str
    case: str = ""
    cvd_case: str = ""

    @property
    def node(self) -> Node:
        return self.face.node

    @property
    def withheld_ids(self) -> set[str]:
        # The relationship's far end is withheld, so it is withheld too (rule 7).
        return {self.withheld["id"], self.relationship["id"]}

    def fill(self, text: str) -> str:
        return text.format(
            released=self.released["id"],
            withheld=self.withheld["id"],
            report=self.report["id"],
            status=self.status,
            case=self.case,
            cvd=self.cvd_case,
        )


def home_objects(
    home_id: str,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    released = indicator("gate-released", created_by=home_id, tlp="clear", name=RELEASED_CANARY)
    withheld = indicator("gate-withheld", created_by=home_id, tlp="amber", name=WITHHELD_CANARY)
    relationship = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": stix_id("relationship", "gate-rel"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "relationship_type": "related-to",
        "source_ref": released["id"],
        "target_ref": withheld["id"],
        "created_by_ref": home_id,
        "object_marking_refs": [TLP["clear"]],
    }
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report", "gate-report"),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "mixed report",
        "published": "2026-01-01T00:00:00Z",
        "object_refs": [released["id"], withheld["id"]],
        "created_by_ref": home_id,
        "object_marking_refs": [TLP["clear"]],
    }
    return released, withheld, relationship, report


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with fresh_node(tmp_path_factory.mktemp("gate"), "sqlite") as node:
        face = make_taxii(node)
        partner = face.join("BSI")
        objs = home_objects(node.home_party.id)
        posted = face.home.client.post(
            f"{T}/{INBOX}/objects/", content=envelope(*objs), headers=TAXII_HEADERS
        )
        assert posted.json()["success_count"] == len(objs)
        own = partner.client.post(
            f"{T}/{INBOX}/objects/",
            content=envelope(indicator("partner-own", created_by=partner.party.id)),
            headers=TAXII_HEADERS,
        )
        # An attribution case of the home party alone: withheld from the partner (rule 5).
        case = attribution.open_case(node, "gate case", [objs[3]["id"]], [])
        # A CVD case of the home party alone: withheld from the partner (rule 5).
        cvd_case = cvd.create(node, title="gate cvd case", reporter="home",
                              vulnerabilities=[Vulnerability("gate vulnerability")])  # fmt: skip
        yield World(face, partner, *objs, status=own.json()["id"], case=case, cvd_case=cvd_case)
        face.close()


def decisions(node: Node, outcome: str | None = None) -> float:
    """The gate's decision counter (kizuna_gate_decisions), for one outcome or all."""
    total = 0.0
    for metric in node.metrics.registry.collect():
        if metric.name != "kizuna_gate_decisions":
            continue
        for sample in metric.samples:
            if sample.name.endswith("_total") and outcome in (None, sample.labels["outcome"]):
                total += sample.value
    return total


def skipped_by_the_gate(world: World) -> bool:
    with world.node.db.read() as conn:
        key = conn.execute(
            select(objects.c.view_key).where(objects.c.id == world.withheld["id"])
        ).scalar_one()
    return view.remembered(world.node, world.partner.party, key) is True


def assert_no_leak(world: World, body: bytes, asked: str) -> None:
    """Nothing of a withheld object in ``body``; its id only where the caller named it."""
    text = body.decode("utf-8", "replace")
    assert WITHHELD_CANARY not in text
    for withheld_id in world.withheld_ids:
        if withheld_id not in asked:
            assert withheld_id not in text, f"{withheld_id} leaked"


def test_the_table_classifies_exactly_the_apps_routes(world: World) -> None:
    served = app_routes(world.face.app)
    assert served - ROUTES.keys() == set(), "classify these new routes in ROUTES"
    assert ROUTES.keys() - served == set(), "these routes are gone: drop them from ROUTES"
    for name, route in ROUTES.items():
        assert route.why and route.calls, name
        assert {c.method for c in route.calls} == {name.split(" ")[0]}, name
    releasing = {n for n, r in ROUTES.items() if r.releases}
    assert releasing, "some routes must release objects"


CALLS = [(name, call) for name, route in ROUTES.items() for call in route.calls]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[f"{c.method} {c.path}" for _, c in CALLS])
def test_no_route_leaks_a_withheld_object(world: World, name: str, call: Call) -> None:
    path = world.fill(call.path)
    headers = TAXII_HEADERS if call.method == "POST" and path.startswith("/taxii2") else {}
    before, withheld_before = decisions(world.node), decisions(world.node, "withhold")
    r = world.partner.client.request(call.method, path, content=call.body, headers=headers)
    assert r.status_code < 500, r.text
    assert_no_leak(world, r.content, path)
    if world.case not in path:  # an attribution case of which the partner is no participant
        assert world.case.encode() not in r.content, "a withheld attribution case leaked"
    if world.cvd_case not in path:  # a CVD case of which the partner is no participant
        assert world.cvd_case.encode() not in r.content, "a withheld CVD case leaked"
        assert b"gate cvd case" not in r.content
    if call.shows_released:
        assert r.status_code == 200
        assert RELEASED_CANARY in r.text
    if ROUTES[name].releases and r.status_code == 200:
        assert decisions(world.node) > before, "a releasing route answered without the gate"
    if call.judges_withheld:
        # The gate judged it now, or a page skipped it on the gate's remembered decision
        # that its view key is withheld from the partner (services.view).
        judged = decisions(world.node, "withhold") > withheld_before
        assert judged or skipped_by_the_gate(world), "the gate never saw it"
    # The withheld object is still there, whole, for the home party.
    held = world.face.home.client.get(f"/api/objects/{world.withheld['id']}")
    assert held.status_code == 200 and WITHHELD_CANARY in held.text


@pytest.mark.parametrize(
    ("name", "call"),
    [(n, c) for n, c in CALLS if ROUTES[n].releases and c.judges_withheld],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_home_party_gets_what_the_partner_does_not(world: World, name: str, call: Call) -> None:
    """The same calls as the home party do reach the withheld object: the test is not vacuous."""
    r = world.face.home.client.request(call.method, world.fill(call.path))
    assert r.status_code == 200
    if call.path.endswith("/versions/"):
        assert r.json()["versions"]
    elif "limit=1" not in call.path:
        assert world.withheld["id"] in r.text


def test_containers_go_as_derivatives_without_withheld_refs(world: World) -> None:
    got = world.partner.client.get(
        f"{T}/{RELEASED}/objects/", params={"match[type]": "report"}
    ).json()["objects"]
    [derived] = [o for o in got if o["type"] == "report"]
    assert derived["id"] != world.report["id"]
    assert derived["object_refs"] == [world.released["id"]]
    # Anything else in the page is the derivative's seal (DESIGN.md "Federation").
    assert all(o["sealed_ref"] == derived["id"] for o in got if o is not derived)
    home = world.face.home.client.get(
        f"{T}/{RELEASED}/objects/", params={"match[type]": "report"}
    ).json()["objects"]
    assert home == [world.report]


# --- export paths -----------------------------------------------------------------------------

EXPORTS: dict[str, Callable[[Node, Party], bytes]] = {
    "releases": lambda node, party: b"\n".join(r.content for r in export.releases(node, party)),
    "bundle_chunks": lambda node, party: b"".join(export.bundle_chunks(node, party)),
    "ndjson_chunks": lambda node, party: b"".join(export.ndjson_chunks(node, party)),
    "bundle_for": export.bundle_for,
    # A preview is built by the same gate; it is only neither sealed nor written to the ledger.
    "previews": lambda node, party: b"\n".join(r.content for r in export.previews(node, party)),
    "chosen": lambda node, party: b"\n".join(
        r.content for r in export.chosen(node, party, preview=True)
    ),
}


def test_the_export_table_covers_every_export_function() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(export, inspect.isfunction)
        if fn.__module__ == export.__name__ and not name.startswith("_")
    }
    assert public == EXPORTS.keys()


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_every_export_function_goes_through_the_gate(world: World, name: str) -> None:
    before = decisions(world.node, "withhold")
    body = EXPORTS[name](world.node, world.partner.party)
    assert_no_leak(world, body, "")
    assert RELEASED_CANARY in body.decode()
    assert decisions(world.node, "withhold") > before
    everything = EXPORTS[name](world.node, world.node.home_party)
    assert WITHHELD_CANARY in everything.decode()


@pytest.fixture
def cli_node(tmp_path: Path) -> Iterator[tuple[Path, Node]]:
    home = tmp_path / "node"
    with fresh_node(home, "sqlite") as node:
        face = make_taxii(node)
        face.join("BSI")
        objs = home_objects(node.home_party.id)
        face.home.client.post(
            f"{T}/{INBOX}/objects/", content=envelope(*objs), headers=TAXII_HEADERS
        )
        face.close()
        yield home, node


@pytest.mark.parametrize("fmt", ["bundle", "ndjson"])
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
def test_cli_export_goes_through_the_gate(
    cli_node: tuple[Path, Node], tmp_path: Path, fmt: str, to_file: bool
) -> None:
    home, node = cli_node
    released, withheld, relationship, _ = home_objects(node.home_party.id)
    out = tmp_path / f"export.{fmt}"
    args = ["--home", str(home), "export", "--to", "BSI", "--format", fmt]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)] if to_file else args)
    assert result.exit_code == 0, result.output
    body = out.read_bytes() if to_file else result.stdout_bytes
    text = body.decode()
    assert RELEASED_CANARY in text
    assert WITHHELD_CANARY not in text
    assert withheld["id"] not in text and relationship["id"] not in text
    if fmt == "bundle":
        assert orjson.loads(body)["type"] == "bundle"
    else:
        assert all(orjson.loads(line)["type"] for line in body.splitlines())
    # The gate, and only the gate, writes the ledger: the release is on it, the withheld is not.
    entries = ledger.show(node)
    bsi = next(p for p in node_parties(node) if p.name == "BSI")
    to_bsi = {e.object_id for e in entries if e.recipient == bsi.id}
    assert released["id"] in to_bsi
    assert withheld["id"] not in to_bsi and relationship["id"] not in to_bsi


def node_parties(node: Node) -> list[Any]:
    from kizuna.services import parties

    return parties.all_parties(node)
