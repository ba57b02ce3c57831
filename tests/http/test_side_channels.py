"""Nothing a partner can ask tells it what is withheld from it (DESIGN.md "Who may change the
gate's inputs"): metrics, derivatives, explain, post answers and ``date_added``, over real HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from stix_factory import (
    INBOX_URL,
    RELEASED_URL,
    TAXII_HEADERS,
    TLP,
    envelope,
    indicator,
    stix_id,
)
from taxii_harness import Caller, Taxii

from kizuna.core.redaction import DERIVATIVE_EXTENSION, derived_id
from kizuna.services import ingest, tokens
from kizuna.storage import objects as store

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 §2.9


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


def _report(seed: str, refs: list[str]) -> dict[str, Any]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report", seed),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"report {seed}",
        "published": "2026-01-01T00:00:00Z",
        "object_refs": refs,
        "object_marking_refs": [TLP["clear"]],
    }


def _released(caller: Caller) -> list[dict[str, Any]]:
    got = caller.client.get(f"{RELEASED_URL}objects/", headers=TAXII_HEADERS)
    assert got.status_code == 200, got.text
    objects: list[dict[str, Any]] = got.json().get("objects", [])
    return objects


def test_a_derivative_carries_nothing_computed_from_what_was_withheld(taxii: Taxii) -> None:
    bsi, nisc = taxii.join("BSI"), taxii.join("NISC", jurisdiction="JP", scheme="JP")
    # BSI's own TLP:RED indicator: BSI receives it (rule 1), NISC does not.
    own = indicator("derivative-bsi", tlp="red", created_by=bsi.party.id)
    posted = bsi.client.post(INBOX_URL + "objects/", content=envelope(own), headers=TAXII_HEADERS)
    assert posted.status_code == 202 and posted.json()["success_count"] == 1, posted.text
    clear = indicator("derivative-clear")
    home_red = indicator("derivative-home-red", tlp="red")
    report = _report("derivative", [clear["id"], own["id"], home_red["id"]])
    home = taxii.node.home_party
    ingest.ingest(taxii.node, [clear, home_red, report], submitter=home, path="import")

    got: dict[str, dict[str, Any]] = {}
    for caller in (bsi, nisc):
        objects = _released(caller)
        reports = [o for o in objects if o["type"] == "report"]
        assert len(reports) == 1
        got[caller.party.name] = reports[0]
        seals = [o for o in objects if o.get("sealed_ref") == reports[0]["id"]]
        assert seals and all("original_digest" not in s for s in seals)
        text = orjson.dumps(objects).decode()
        assert home_red["id"] not in text
    withheld_for = {"BSI": [home_red["id"]], "NISC": [own["id"], home_red["id"]]}
    for name, derivative in got.items():
        assert derivative["object_refs"] == [
            r for r in report["object_refs"] if r not in withheld_for[name]
        ]
        extension = derivative["extensions"][DERIVATIVE_EXTENSION]
        assert extension == {
            "extension_type": "property-extension",
            "derived_from": report["id"],
            "derived_from_version": report["modified"],
            "profile": "withheld",
        }
        # Its id is computed from what the recipient holds (the original's id, the profile and
        # the derivative itself), so it says nothing of which references went, or how many.
        body = {k: v for k, v in derivative.items() if k not in ("id", "extensions")}
        assert derivative["id"] == derived_id(report["id"], "withheld", body)


def _explained(caller: Caller, object_id: str, to: str) -> list[dict[str, Any]]:
    got = caller.client.get("/api/explain", params={"object": object_id, "to": to})
    assert got.status_code == 200, got.text
    answer: list[dict[str, Any]] = got.json()
    return answer


def test_explain_of_own_object_does_not_tell_held_withheld_refs_from_absent_ones(
    taxii: Taxii,
) -> None:
    bsi = taxii.join("BSI")
    taxii.join("NISC", jurisdiction="JP", scheme="JP")
    home_red = indicator("explain-home-red", tlp="red")
    ingest.ingest(taxii.node, [home_red], submitter=taxii.node.home_party, path="import")
    own = indicator("explain-own", created_by=bsi.party.id)
    absent = stix_id("indicator", "explain-not-held")
    held_report = {
        **_report("explain-held", [own["id"], home_red["id"]]),
        "created_by_ref": bsi.party.id,
    }
    absent_report = {
        **_report("explain-absent", [own["id"], absent]),
        "created_by_ref": bsi.party.id,
    }
    posted = bsi.client.post(
        INBOX_URL + "objects/",
        content=envelope(own, held_report, absent_report),
        headers=TAXII_HEADERS,
    )
    assert posted.json()["success_count"] == 3, posted.text

    # The home party sees why: the held reference is withheld from NISC.
    at_home = _explained(taxii.home, held_report["id"], "NISC")
    assert home_red["id"] in orjson.dumps(at_home).decode()
    assert at_home[-1]["outcome"] == "release-redacted"

    def shape(answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k not in ("id", "released_id")} for e in answer]

    for to in ("NISC", "BSI", taxii.node.home_party.name):
        held = _explained(bsi, held_report["id"], to)
        assert home_red["id"] not in orjson.dumps(held).decode()
        assert shape(held) == shape(_explained(bsi, absent_report["id"], to)), to


def _post(caller: Caller, *objects: dict[str, Any]) -> dict[str, Any]:
    got = caller.client.post(
        INBOX_URL + "objects/", content=envelope(*objects), headers=TAXII_HEADERS
    )
    assert got.status_code == 202, got.text
    status: dict[str, Any] = got.json()
    return status


def _answers(status: dict[str, Any]) -> list[tuple[str, str]]:
    """Each object's answer, with its own id taken out of the words."""
    entries = [("ok", e) for e in status.get("successes", [])]
    entries += [("failed", e) for e in status.get("failures", [])]
    return sorted((kind, e.get("message", "").replace(e["id"], "ID")) for kind, e in entries)


def test_a_post_answers_alike_for_ids_held_from_others_and_ids_never_allowed(taxii: Taxii) -> None:
    bsi, nisc = taxii.join("BSI"), taxii.join("NISC", jurisdiction="JP", scheme="JP")
    home = taxii.node.home_party
    held = indicator("post-held", tlp="red")  # withheld from BSI
    observable = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--" + str(uuid.uuid5(SCO_NAMESPACE, '{"value":"203.0.113.7"}')),
        "value": "203.0.113.7",
        "object_marking_refs": [TLP["red"]],
    }
    ingest.ingest(taxii.node, [held, observable], submitter=home, path="import")

    probes = [
        held,  # the same content
        {**held, "name": "changed, same version"},
        {**held, "modified": "2026-06-01T00:00:00.000Z"},  # a newer version
        {**held, "created_by_ref": bsi.party.id},
    ]
    never = [
        indicator("post-never", created_by=nisc.party.id),  # names another party
        {  # another party's identity
            "type": "identity",
            "spec_version": "2.1",
            "id": nisc.party.id,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-06-01T00:00:00.000Z",
            "name": "NISC",
            "identity_class": "organization",
        },
    ]
    answers = {_answers(_post(bsi, probe))[0] for probe in probes + never}
    assert len(answers) == 1, answers
    ((kind, words),) = answers
    assert kind == "failed" and "another party is its originator" in words
    assert "already stored" not in words and "different content" not in words

    # An observable's id is its value: held from another or new, the answer is the same.
    mine = {k: v for k, v in observable.items() if k != "object_marking_refs"}
    fresh_value = "203.0.113.8"
    fresh = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--" + str(uuid.uuid5(SCO_NAMESPACE, f'{{"value":"{fresh_value}"}}')),
        "value": fresh_value,
    }
    first = [_answers(_post(bsi, o)) for o in (mine, fresh)]
    again = [_answers(_post(bsi, o)) for o in (mine, fresh)]
    assert first[0] == first[1] == again[0] == again[1] == [("ok", ingest.SCO_SHARED)]

    # Its own object posted twice, a party may learn that it is unchanged.
    own = indicator("post-own", created_by=bsi.party.id)
    assert _answers(_post(bsi, own)) == [("ok", "")]
    assert _answers(_post(bsi, own)) == [("ok", "already stored with the same content")]
    # Deleting another's object answers as deleting one the node does not hold.
    absent = stix_id("indicator", "post-absent")
    gone = [
        bsi.client.delete(f"{INBOX_URL}objects/{i}/", headers=TAXII_HEADERS)
        for i in (held["id"], absent)
    ]
    assert [g.status_code for g in gone] == [404, 404]
    assert gone[0].json()["description"].replace(held["id"], "ID") == gone[1].json()[
        "description"
    ].replace(absent, "ID")


def _date_added(caller: Caller) -> dict[str, int]:
    """Each released object's ``date_added`` as the partner reads it, in microseconds."""
    got = caller.client.get(f"{RELEASED_URL}manifest/?match[type]=indicator", headers=TAXII_HEADERS)
    assert got.status_code == 200, got.text
    out = {}
    for entry in got.json().get("objects", []):
        stamp = datetime.fromisoformat(entry["date_added"].replace("Z", "+00:00"))
        out[entry["id"]] = int(stamp.timestamp()) * 1_000_000 + stamp.microsecond
    return out


def test_date_added_gaps_do_not_count_what_was_withheld(taxii: Taxii) -> None:
    """Two objects a partner may read, imported with ``k`` it may not between them: with dates
    given one after the other, the gap between the two it reads would be ``k + 1``."""
    bsi = taxii.join("BSI")
    home = taxii.node.home_party
    batches = []
    for n, withheld in enumerate((0, 0, 3, 3, 40, 40, 0, 3, 40, 0)):
        first, last = indicator(f"gap-{n}-first"), indicator(f"gap-{n}-last")
        red = [indicator(f"gap-{n}-red-{i}", tlp="red") for i in range(withheld)]
        ingest.ingest(taxii.node, [first, *red, last], submitter=home, path="import")
        batches.append((first["id"], last["id"], withheld))
    dates = _date_added(bsi)
    assert len(dates) == 2 * len(batches)  # nothing red, and every clear one
    gaps = [(abs(dates[b] - dates[a]), withheld) for a, b, withheld in batches]
    assert not all(gap == withheld + 1 for gap, withheld in gaps), gaps


def test_a_batch_window_is_as_wide_whatever_it_withholds(taxii: Taxii) -> None:
    """The next batch's dates start after the whole window of the one before, and a window is
    as wide for 2 objects as for 2 plus 40 withheld: the jump between batches counts nothing."""
    home = taxii.node.home_party
    widths = []
    for n, withheld in enumerate((0, 40, 0, 62)):
        with taxii.node.db.read() as conn:
            before = store.last_date_added(conn)
        red = [indicator(f"window-{n}-red-{i}", tlp="red") for i in range(withheld)]
        pair = [indicator(f"window-{n}-a"), indicator(f"window-{n}-b")]
        outcomes = ingest.ingest(taxii.node, [*pair, *red], submitter=home, path="import")
        with taxii.node.db.read() as conn:
            after = store.last_date_added(conn)
        widths.append(after - before)
        assert all(before < (o.date_added or 0) <= after for o in outcomes)
    assert len(set(widths)) == 1 and widths[0] == store.date_window(1), widths
    # Past 64 objects a window grows by powers of two: its width tells a reader at most the
    # batch's size to a factor of two.
    assert [store.date_window(n) for n in (1, 64, 65, 128, 129, 1000)] == [
        4096, 4096, 8192, 8192, 16384, 65536,
    ]  # fmt: skip
