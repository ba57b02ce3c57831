"""Nothing a partner can ask tells it what is withheld from it (DESIGN.md "Who may change the
gate's inputs"): metrics, derivatives, explain, post answers and ``date_added``, over real HTTP."""

from __future__ import annotations

from stix_factory import INBOX_URL, RELEASED_URL, TAXII_HEADERS, TLP, indicator, stix_id
from taxii_harness import Taxii

from kizuna.services import ingest, tokens


def _metrics_body(taxii: Taxii) -> str:
    got = taxii.home.client.get("/metrics")
    assert got.status_code == 200, got.text
    return got.text


def test_metrics_answer_only_home_and_monitoring_tokens(taxii: Taxii) -> None:
    bsi = taxii.join("BSI")
    red = indicator("metrics-red", tlp="red")
    ingest.ingest(taxii.node, [red], submitter=taxii.node.home_party, path="import")
    # The partner asks for the withheld object: 404, as for any id it may not see.
    asked = bsi.client.get(f"{RELEASED_URL}objects/{red['id']}/", headers=TAXII_HEADERS)
    assert asked.status_code == 404

    anonymous = taxii.client().get("/metrics")
    assert anonymous.status_code == 401
    assert "WWW-Authenticate" in anonymous.headers
    partner = bsi.client.get("/metrics")
    assert partner.status_code == 403
    assert "kizuna_gate_decisions" not in partner.text
    assert "monitoring token" in partner.json()["error"]["message"]

    monitoring = tokens.create_monitoring(taxii.node).value
    scraper = taxii.client({"Authorization": f"Bearer {monitoring}"})
    scraped = scraper.get("/metrics")
    assert scraped.status_code == 200
    assert "kizuna_gate_decisions" in scraped.text
    assert "kizuna_gate_decisions" in _metrics_body(taxii)
    # A monitoring token reads /metrics and nothing else: it never acts as the home party.
    for path in ("/api/node", f"{RELEASED_URL}objects/", "/api/preview?to=BSI"):
        refused = scraper.get(path, headers=TAXII_HEADERS if "taxii2" in path else None)
        assert refused.status_code == 403, path
    posted = scraper.post(INBOX_URL + "objects/", json={"objects": []}, headers=TAXII_HEADERS)
    assert posted.status_code == 403
    tokens.revoke(taxii.node, monitoring)
    assert scraper.get("/metrics").status_code == 401


def test_a_withheld_object_named_in_a_post_answer_is_not_stix_id_dependent() -> None:
    assert stix_id("indicator", "a") != stix_id("indicator", "b")
    assert TLP["red"].startswith("marking-definition--")
