"""The demo's joint attribution chapter: three partners attribute the example campaign, one
dissents, two sign; the Maritime ISAC, no participant, never learns of the case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services import attribution, ingest

if TYPE_CHECKING:
    from kizuna.cli.demo import Demo

CAMPAIGN = "campaign--2bfdb451-cc49-5422-aad2-740a6f3d09c4"  # "Customs lure (example)"
C2 = "indicator--7bba5bab-fcc7-5dce-a18e-cffb7d122c53"
ACTOR = "intrusion-set--6a1f3c52-8d0e-4b7a-9c2d-1e5f7a9b3c40"
RELEASE_IN_S = 3600


async def chapter(demo: Demo, number: int) -> None:
    eu, bsi, nisc = (demo.nodes[n] for n in ("CERT-EU", "BSI", "NISC"))
    demo.say(f"\n[bold]{number}. CERT-EU, BSI and NISC attribute the example campaign together.[/]")
    stamp = format_timestamp(eu.now())
    actor = {
        "type": "intrusion-set",
        "spec_version": "2.1",
        "id": ACTOR,
        "created": stamp,
        "modified": stamp,
        "created_by_ref": eu.home_party.id,
        "name": "Harbour Spider (example)",
        "object_marking_refs": [TLP_MARKING_ID["green"]],
    }
    ingest.ingest(eu, [actor], submitter=eu.home_party, path="import")
    case = attribution.open_case(eu, "Customs lure", [CAMPAIGN], ["BSI", "NISC"])
    spider = attribution.add_hypothesis(eu, case, ACTOR, name="Harbour Spider")
    unknown = attribution.add_hypothesis(eu, case, None)
    flag = attribution.add_hypothesis(eu, case, ACTOR, false_flag=True, name="Harbour Spider")
    e1 = attribution.add_evidence(eu, case, "B2", "infrastructure", [C2], "C2 reused from 2025")
    attribution.rate(eu, case, e1, {spider: "C", unknown: "I", flag: "N"}, "high")
    attribution.assess(eu, case, spider, "icd-203", "likely", "moderate", "C2 reuse")
    await demo.sync_everyone()
    demo.check(
        "Berlin and Tokyo hold the case", demo.holds("BSI", case) and demo.holds("NISC", case)
    )
    demo.check("the Maritime ISAC, no participant, does not", not demo.holds("Maritime ISAC", case))

    demo.say("   Each analyses on its own node; Tokyo dissents.")
    e2 = attribution.add_evidence(bsi, case, "C3", "linguistic", summary="German-language lures")
    attribution.rate(bsi, case, e1, {spider: "C", unknown: "I", flag: "C"})
    attribution.rate(bsi, case, e2, {spider: "C", unknown: "C", flag: "I"})
    attribution.assess(bsi, case, spider, "phia", "highly likely", "high", "C2 and lures")
    e3 = attribution.add_evidence(nisc, case, "A2", "technical", summary="compile times in UTC+9")
    attribution.rate(nisc, case, e1, {spider: "N", unknown: "C", flag: "C"})
    attribution.rate(nisc, case, e3, {spider: "I", unknown: "C", flag: "C"}, "high")
    attribution.assess(nisc, case, spider, "icd-203", "unlikely", "low", "rented C2, odd hours")
    await demo.sync_everyone()
    picture = attribution.view(eu, case, eu.home_party).joint
    [h] = [x for x in picture.hypotheses if x.hypothesis.id == spider]
    names = {eu.home_party.id: "CERT-EU", bsi.home_party.id: "BSI", nisc.home_party.id: "NISC"}
    for p in h.partners:
        words = p.assessment.describe() if p.assessment else "no assessment"
        demo.say(f"   {names[p.partner]}: {words}; ACH rank {p.rank}")
    demo.check(
        "the joint picture keeps the dissent: CERT-EU and BSI for, NISC against; "
        f"evidence rated differently: {len(h.divergences)}",
        h.agreement == "diverge" and h.sides.get("against") == (nisc.home_party.id,),
    )

    release_at = format_timestamp(eu.now() + RELEASE_IN_S * 1_000_000)
    text = "Harbour Spider conducted the customs-lure campaign."
    sid = attribution.draft_statement(eu, case, text, ACTOR, CAMPAIGN, "icd-203", "likely",
                                      "moderate", ["BSI", "NISC"], release_at)  # fmt: skip
    attribution.sign(eu, sid, "sign")
    await demo.sync_everyone()
    attribution.sign(bsi, sid, "sign")
    attribution.sign(nisc, sid, "abstain")
    await demo.sync_everyone()
    out = attribution.release(eu, sid)
    await demo.sync_everyone()
    demo.check(
        f"two sign, one abstains; published for the signatories, held until {release_at}",
        len(out.signatories) == 2 and len(out.abstained) == 1,
    )
    demo.check("Berlin holds the publication ahead of the joint time",
               all(demo.holds("BSI", i) for i in out.ids))  # fmt: skip
    demo.check(
        "the Maritime ISAC holds nothing of the case or the statement",
        not any(demo.holds("Maritime ISAC", i) for i in (case, sid, *out.ids)),
    )
