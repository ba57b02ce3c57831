"""The console in a real browser: Debian's chromium driven by Playwright (the system browser,
no browser download), against a real uvicorn server on loopback.

Flows: log in, search, open an object (its script-bearing description stays text), preview a
partner, answer a consent request, sign an agreement version, import a file, and a person without
the role refused, also when posting the form directly. Skipped, with the reason, where chromium
or Playwright is missing. Screenshots go to the test's folder; with KIZUNA_UPDATE_SCREENSHOTS=1
the main pages' ones are written to docs/console/ (the README shows them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from console_world import PASSWORD, World, build

from kizuna.services import agreements, consents, users
from kizuna.services.node import init_node
from support import serve_in_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine (apt-get install -y chromium)"
)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"


class Site:
    def __init__(self, world: World, url: str, browser: Any, shots: Path) -> None:
        self.world, self.url, self.browser, self.shots = world, url, browser, shots
        self.dialogs: list[str] = []

    def _dismiss(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def login(self, user: str) -> Any:
        context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.on("dialog", self._dismiss)
        page.goto(f"{self.url}/")
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{self.url}/")
        return page

    def shot(self, page: Any, name: str, keep: bool = False) -> None:
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        if keep and os.environ.get("KIZUNA_UPDATE_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS / f"{name}.png")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("browser")
    node = init_node(
        folder / "node", party_name="CERT-EU", jurisdiction="EU", kind="csirt", scheme="EU"
    )
    world = build(node)
    url, server, thread = serve_in_thread(node)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield Site(world, url, browser, folder)
        finally:
            browser.close()
            server.should_exit = True
            thread.join(timeout=15)
            node.close()


def test_log_in_search_and_open_an_object(site: Site) -> None:
    page = site.login("aiko")
    site.shot(page, "home", keep=True)
    assert "Open consent requests" in page.content()
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Value").fill("198.51.100")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?**")
    page.wait_for_selector("p.count")
    site.shot(page, "search", keep=True)
    page.get_by_role("link", name="scripted").click()
    page.wait_for_url("**/object/**")
    site.shot(page, "object", keep=True)
    # The description's markup is text on the page, and nothing of it ran.
    assert "<script>alert('owned')</script>" in page.locator("pre.json").inner_text()
    assert site.dialogs == []
    assert page.locator("table").first.inner_text().count("release") == 2  # BSI, NISC


def test_preview_a_partner(site: Site) -> None:
    page = site.login("aiko")
    page.get_by_role("link", name="Partners").click()
    page.get_by_role("link", name="BSI").click()
    site.shot(page, "partner-preview", keep=True)
    text = page.locator("table").inner_text()
    assert "withheld" in text and "rule-5-tlp" in text


def test_answer_a_consent_request(site: Site) -> None:
    page = site.login("aiko")
    page.get_by_role("link", name="Consents").click()
    site.shot(page, "consents", keep=True)
    page.get_by_label("Valid for (days)").fill("10")
    page.get_by_role("button", name="Grant").click()
    page.wait_for_url("**/consents")
    assert "No open requests" in page.content()
    granted = consents.list_consents(site.world.node, "CERT-EU")
    assert [sorted(c.objects) for c in granted] == [[site.world.objects["amber"]]]


def test_sign_an_agreement_version(site: Site) -> None:
    page = site.login("aiko")
    page.get_by_role("link", name="Agreements").click()
    site.shot(page, "agreements", keep=True)
    page.get_by_role("button", name="Sign version 1 as CERT-EU").click()
    page.wait_for_url("**/agreements")
    assert agreements.get(site.world.node, site.world.draft).agreement.state == "active"


def test_import_a_file(site: Site, tmp_path: Path) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--22222222-2222-4222-8222-222222222222",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--22222222-2222-4222-8222-222222222222",
                "created": "2026-03-01T00:00:00.000Z",
                "modified": "2026-03-01T00:00:00.000Z",
                "name": "uploaded in the browser",
                "pattern": "[domain-name:value = 'evil.example']",
                "pattern_type": "stix",
                "valid_from": "2026-03-01T00:00:00Z",
            }
        ],
    }
    path = tmp_path / "upload.json"
    path.write_bytes(orjson.dumps(bundle))
    page = site.login("ana")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("STIX 2.1 bundles").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("text=Report")
    site.shot(page, "import", keep=True)
    row = page.locator("tr", has_text="upload.json").inner_text()
    assert row.split()[:2] == ["upload.json", "1"]
    assert any(
        a.user_name == "ana" and a.action.startswith("import upload.json")
        for a in users.actions(site.world.node)
    )


def test_a_person_without_the_role_is_refused(site: Site) -> None:
    page = site.login("ana")  # an analyst, no publisher
    nav = page.get_by_role("navigation").inner_text()
    assert "Consents" not in nav and "Ledger" not in nav
    page.goto(f"{site.url}/consents")
    assert "needs the role publisher" in page.locator("p.error").inner_text()
    site.shot(page, "refused")
    # Posting the form directly, with the person's own valid CSRF token: still refused.
    token = page.locator('input[name="csrf"]').first.get_attribute("value")
    r = page.request.post(
        f"{site.url}/agreements/{site.world.offline}/sign", form={"csrf": token, "version": "1"}
    )
    assert r.status == 403
    assert agreements.get(site.world.node, site.world.offline).agreement.state == "draft"
