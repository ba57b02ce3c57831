"""A case → the CSAF writer's model (``core.csaf``): the writer serialises it, never this module.

Products come from the case's vulnerabilities (deduplicated by vendor, name, version or range);
each product's status under a vulnerability is its vendor's CSAF/VEX status for it (products of
a vendor without one are ``under_investigation``); CVSS 3.1 vectors become scores, 4.0 vectors a
note (CSAF 2.0 has no field for them); shared vendor statements become remediations; SSVC
decisions and the coordination a note; published advisory versions the revision history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from kizuna.core.csaf import (
    Advisory,
    Cwe,
    Note,
    Product,
    ProductStatus,
    Publisher,
    Reference,
    Remediation,
    Revision,
    Score,
    Tracking,
    Vulnerability,
    VulnerabilityId,
)
from kizuna.core.cvd.case import CaseState
from kizuna.core.cvd.states import cs_string


def tracking_id(case_id: str) -> str:
    return "KIZUNA-CVD-" + case_id.split("--", 1)[1][:8].upper()


def _refs(ids: Mapping[str, str]) -> list[Reference]:
    out = []
    if "cve" in ids:
        out.append(Reference(f"https://www.cve.org/CVERecord?id={ids['cve']}", ids["cve"]))
    if "jvn" in ids and ids["jvn"].startswith("JVNVU#"):
        num = ids["jvn"].split("#", 1)[1]
        out.append(Reference(f"https://jvn.jp/vu/JVNVU{num}/", ids["jvn"]))
    if "euvd" in ids:
        out.append(
            Reference(f"https://euvd.enisa.europa.eu/vulnerability/{ids['euvd']}", ids["euvd"])
        )
    return out


def to_advisory(
    st: CaseState,
    *,
    publisher: Publisher,
    revisions: tuple[Revision, ...],
    tlp: str,
    status: str,
    cwe_names: Mapping[str, str],
    names: Mapping[str, str],
) -> Advisory:
    """The advisory model for a case as its publisher sees it."""
    products: dict[tuple[str, str, str, str], Product] = {}
    per_vuln: dict[str, list[str]] = {}
    for vid, v in st.vulnerabilities.items():
        ids = []
        for p in v["products"]:
            key = (p["vendor"], p["name"], p.get("version") or "", p.get("version_range") or "")
            if key not in products:
                products[key] = Product(
                    f"CVD-PRODUCT-{len(products) + 1}",
                    p["vendor"],
                    p["name"],
                    version=p.get("version"),
                    version_range=p.get("version_range"),
                    cpe=p.get("cpe"),
                    purl=p.get("purl"),
                )
            ids.append(products[key].product_id)
        per_vuln[vid] = ids
    by_id = {p.product_id: p for p in products.values()}
    shared = [s for s in st.statements if s["state"] == "shared"]
    vulns = []
    for vid, v in st.vulnerabilities.items():
        pids = per_vuln[vid]
        statuses, remediations = [], []
        for pid in pids:
            vendor = by_id[pid].vendor
            entry = st.statuses.get((vendor, vid), {"status": "under_investigation"})
            statuses.append(
                ProductStatus(pid, entry["status"], justification=entry.get("justification"),
                              impact_statement=entry.get("impact"))
            )  # fmt: skip
        for kind in ("known_affected", "fixed"):
            hit = tuple(s.product_id for s in statuses if s.status == kind)
            if not hit:
                continue
            vendors = {by_id[p].vendor for p in hit}
            texts = [s["text"] for s in shared if s["vendor"] in vendors
                     and s["vulnerability"] in (None, vid)]  # fmt: skip
            if texts:
                remediations.append(Remediation("vendor_fix", " ".join(texts), hit))
            elif kind == "known_affected":
                remediations.append(Remediation("none_available", "No fix is available yet.", hit))
        scores, notes = [], []
        for c in st.cvss:
            if c["vulnerability"] != vid:
                continue
            if c["version"] == "3.1" and pids:
                scores.append(Score(c["vector"], tuple(pids)))
            else:
                notes.append(Note("other", f"CVSS {c['version']}: {c['vector']} "
                                  f"(base score {c['base_score']}, {c['severity']})",
                                  title="CVSS v4.0 score"))  # fmt: skip
        text = v.get("description") or v.get("title") or str(v["name"])
        notes.insert(0, Note("description", text, title="Vulnerability description"))
        ids = v["ids"]
        others = tuple(VulnerabilityId(s.upper(), i) for s, i in sorted(ids.items())
                       if s in ("euvd", "jvn"))  # fmt: skip
        cwe = ids.get("cwe")
        vulns.append(
            Vulnerability(
                cve=ids.get("cve"),
                ids=others,
                title=v.get("title"),
                cwe=Cwe(cwe, cwe_names[cwe]) if cwe and cwe in cwe_names else None,
                scores=tuple(scores),
                statuses=tuple(statuses),
                remediations=tuple(remediations),
                notes=tuple(notes),
                references=tuple(_refs(ids)),
            )
        )
    coordination = (
        f"Coordinated by {', '.join(names.get(c, c) for c in st.coordinators)} through kizuna; "
        f"case state {cs_string(st.flags)}; embargo {st.embargo}."
    )
    doc_notes = [
        Note("summary", st.title, title="Summary"),
        Note("general", coordination, title="Coordination"),
    ]
    for d in st.ssvc:
        doc_notes.append(Note("other", f"SSVC {d['table']} v{d['table_version']}: {d['outcome']} "
                                       f"({', '.join(f'{k}={v}' for k, v in d['inputs'].items())})",
                              title=f"SSVC {d['table']}"))  # fmt: skip
    refs = [r for v in vulns for r in v.references][:1] or [
        Reference(publisher.namespace, f"{publisher.name} coordinated vulnerability disclosure")
    ]
    return Advisory(
        title=st.title,
        publisher=publisher,
        tracking=Tracking(tracking_id(st.id), revisions, status=status),  # type: ignore[arg-type]
        tlp=tlp,  # type: ignore[arg-type]
        products=tuple(products.values()),
        vulnerabilities=tuple(vulns),
        notes=tuple(doc_notes),
        references=tuple(refs),
    )


def revision_dates(stamps: list[tuple[str, datetime]]) -> tuple[Revision, ...]:
    """Revisions "1", "2", … from (summary, date) pairs in order."""
    return tuple(Revision(str(i + 1), at, s) for i, (s, at) in enumerate(stamps))
