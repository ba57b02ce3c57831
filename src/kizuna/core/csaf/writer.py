"""Advisory model → CSAF 2.0 JSON (csaf_security_advisory and csaf_vex profiles).

The writer refuses, with `InvalidCsaf` naming the problem, any model that would break the
schema or a mandatory test (CSAF 2.0 §6.1) it can see coming; the test suite checks every
document it writes with the `csaf` validator (schema and all mandatory tests).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
from cvss import CVSS2, CVSS3  # type: ignore[import-untyped]
from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

from kizuna import __version__
from kizuna.core.csaf.model import (
    Advisory,
    Note,
    Product,
    Reference,
    Remediation,
    Score,
    Vulnerability,
)
from kizuna.errors import InvalidCsaf

SECURITY_ADVISORY = "csaf_security_advisory"
VEX = "csaf_vex"
# CSAF 2.0 §3.2.1.5.2 knows the TLP 1.0 labels only.
_TLP_LABELS = {
    "clear": "WHITE",
    "green": "GREEN",
    "amber": "AMBER",
    "amber+strict": "AMBER",
    "red": "RED",
}
_VEX_STATUSES = ("fixed", "known_affected", "known_not_affected", "under_investigation")
# CSAF 2.0 §6.1.27.1: the notes a security advisory / VEX document must carry one of.
_PROFILE_NOTES = {"description", "details", "general", "summary"}
_TEMPORAL = ("E", "RL", "RC")
_ENVIRONMENTAL = ("CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA")


def write_advisory(adv: Advisory, *, generated: datetime | None = None) -> dict[str, Any]:
    """The csaf_security_advisory document for `adv`."""
    return _document(adv, SECURITY_ADVISORY, generated)


def write_vex(adv: Advisory, *, generated: datetime | None = None) -> dict[str, Any]:
    """The csaf_vex document for `adv`."""
    return _document(adv, VEX, generated)


def dumps(doc: dict[str, Any]) -> bytes:
    """JSON text of a CSAF document: UTF-8, two-space indent, trailing newline."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def timestamp(value: datetime) -> str:
    """A CSAF date-time (RFC 3339, UTC, seconds unless there are fractions)."""
    if value.tzinfo is None:
        raise InvalidCsaf(f"date {value.isoformat()} has no time zone")
    value = value.astimezone(UTC)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _document(adv: Advisory, category: str, generated: datetime | None) -> dict[str, Any]:
    _check(adv, category)
    doc: dict[str, Any] = {"document": _meta(adv, category, generated)}
    if adv.products:
        doc["product_tree"] = product_tree(adv.products)
    if adv.vulnerabilities:
        doc["vulnerabilities"] = [_vulnerability(v) for v in adv.vulnerabilities]
    return doc


def _meta(adv: Advisory, category: str, generated: datetime | None) -> dict[str, Any]:
    revisions = adv.tracking.revisions
    distribution: dict[str, Any] = {"tlp": {"label": _TLP_LABELS[adv.tlp], "url": adv.tlp_url}}
    text = adv.distribution_text
    if adv.tlp == "amber+strict" and not text:
        text = "TLP:AMBER+STRICT"
    if text:
        distribution["text"] = text
    publisher: dict[str, Any] = {
        "category": adv.publisher.category,
        "name": adv.publisher.name,
        "namespace": adv.publisher.namespace,
    }
    if adv.publisher.contact_details:
        publisher["contact_details"] = adv.publisher.contact_details
    if adv.publisher.issuing_authority:
        publisher["issuing_authority"] = adv.publisher.issuing_authority
    generator: dict[str, Any] = {"engine": {"name": "kizuna", "version": __version__}}
    if generated is not None:
        generator["date"] = timestamp(generated)
    initial = adv.tracking.initial_release_date or revisions[0].date
    meta: dict[str, Any] = {
        "category": category,
        "csaf_version": "2.0",
        "distribution": distribution,
        "lang": adv.lang,
        "publisher": publisher,
        "title": adv.title,
        "tracking": {
            "current_release_date": timestamp(revisions[-1].date),
            "generator": generator,
            "id": adv.tracking.id,
            "initial_release_date": timestamp(initial),
            "revision_history": [
                {"date": timestamp(r.date), "number": r.number, "summary": r.summary}
                for r in revisions
            ],
            "status": adv.tracking.status,
            "version": revisions[-1].number,
        },
    }
    if adv.notes:
        meta["notes"] = [_note(n) for n in adv.notes]
    if adv.references:
        meta["references"] = [_reference(r) for r in adv.references]
    return meta


def product_tree(products: tuple[Product, ...]) -> dict[str, Any]:
    """Branches vendor → product_name → product_version | product_version_range (§3.2.2)."""
    vendors: dict[str, dict[str, list[Product]]] = defaultdict(lambda: defaultdict(list))
    for p in products:
        vendors[p.vendor][p.name].append(p)
    branches = []
    for vendor, names in vendors.items():
        name_branches = []
        for name, items in names.items():
            branch: dict[str, Any] = {"category": "product_name", "name": name}
            whole = [p for p in items if p.version is None and p.version_range is None]
            if whole and len(items) > 1:
                raise InvalidCsaf(
                    f"product {whole[0].product_id} has no version but {vendor} {name} "
                    "also has versioned products: give it a version or a version range"
                )
            if whole:
                branch["product"] = _full_name(whole[0], f"{vendor} {name}")
            else:
                branch["branches"] = [_version_branch(p) for p in items]
            name_branches.append(branch)
        branches.append({"branches": name_branches, "category": "vendor", "name": vendor})
    return {"branches": branches}


def _version_branch(p: Product) -> dict[str, Any]:
    if p.version is not None:
        category, name = "product_version", p.version
    else:
        category, name = "product_version_range", str(p.version_range)
    return {
        "category": category,
        "name": name,
        "product": _full_name(p, f"{p.vendor} {p.name} {name}"),
    }


def _full_name(p: Product, name: str) -> dict[str, Any]:
    full: dict[str, Any] = {"name": name, "product_id": p.product_id}
    helper = {k: v for k, v in (("cpe", p.cpe), ("purl", p.purl)) if v}
    if helper:
        full["product_identification_helper"] = helper
    return full


def _vulnerability(v: Vulnerability) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if v.cve:
        out["cve"] = v.cve
    if v.cwe:
        out["cwe"] = {"id": v.cwe.id, "name": v.cwe.name}
    if v.discovery_date:
        out["discovery_date"] = timestamp(v.discovery_date)
    if v.ids:
        out["ids"] = [{"system_name": i.system_name, "text": i.text} for i in v.ids]
    if v.notes:
        out["notes"] = [_note(n) for n in v.notes]
    status: dict[str, list[str]] = defaultdict(list)
    flags: dict[str, list[str]] = defaultdict(list)
    threats = []
    for s in v.statuses:
        status[s.status].append(s.product_id)
        if s.justification:
            flags[s.justification].append(s.product_id)
        if s.impact_statement:
            threats.append(
                {"category": "impact", "details": s.impact_statement, "product_ids": [s.product_id]}
            )
    if flags:
        out["flags"] = [{"label": k, "product_ids": ids} for k, ids in flags.items()]
    if status:
        out["product_status"] = dict(status)
    if v.references:
        out["references"] = [_reference(r) for r in v.references]
    if v.release_date:
        out["release_date"] = timestamp(v.release_date)
    if v.remediations:
        out["remediations"] = [_remediation(r) for r in v.remediations]
    if v.scores:
        out["scores"] = [score(s) for s in v.scores]
    if threats:
        out["threats"] = threats
    if v.title:
        out["title"] = v.title
    return out


def score(s: Score) -> dict[str, Any]:
    """A CSAF score object (§3.2.3.11), computed from the vector with the `cvss` library."""
    try:
        if s.vector.startswith("CVSS:3."):
            c3 = CVSS3(s.vector)
            base, temporal, env = c3.scores()
            sev = c3.severities()
            body: dict[str, Any] = {
                "baseScore": float(base),
                "baseSeverity": sev[0].upper(),
                "vectorString": c3.clean_vector(),
                "version": s.vector[5:8],
            }
            metrics = {part.split(":")[0] for part in s.vector.split("/")[1:]}
            if metrics & set(_TEMPORAL):
                body["temporalScore"] = float(temporal)
                body["temporalSeverity"] = sev[1].upper()
            if metrics & set(_ENVIRONMENTAL):
                body["environmentalScore"] = float(env)
                body["environmentalSeverity"] = sev[2].upper()
            return {"cvss_v3": body, "products": list(s.product_ids)}
        if s.vector.startswith("CVSS:"):
            raise InvalidCsaf(
                f"CVSS vector {s.vector!r}: CSAF 2.0 carries CVSS v2 and v3.x only "
                "(put a CVSS 4.0 vector in a note)"
            )
        c2 = CVSS2(s.vector)
        return {
            "cvss_v2": {
                "baseScore": float(c2.scores()[0]),
                "vectorString": c2.clean_vector(),
                "version": "2.0",
            },
            "products": list(s.product_ids),
        }
    except CVSSError as exc:
        raise InvalidCsaf(f"CVSS vector {s.vector!r} is not valid: {exc}") from exc


def _note(n: Note) -> dict[str, Any]:
    out: dict[str, Any] = {"category": n.category, "text": n.text}
    if n.title:
        out["title"] = n.title
    if n.audience:
        out["audience"] = n.audience
    return out


def _reference(r: Reference) -> dict[str, Any]:
    return {"category": r.category, "summary": r.summary, "url": r.url}


def _remediation(r: Remediation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category": r.category,
        "details": r.details,
        "product_ids": list(r.product_ids),
    }
    if r.url:
        out["url"] = r.url
    if r.date:
        out["date"] = timestamp(r.date)
    return out


def _check(adv: Advisory, category: str) -> None:
    """Refuse what would break the schema or a mandatory test (§6.1), naming the test."""
    problems: list[str] = []
    if not adv.tracking.revisions:
        problems.append("the tracking has no revision (§3.2.1.12.6)")
    numbers = [r.number for r in adv.tracking.revisions]
    if any(not n.isdigit() for n in numbers):
        problems.append(f"revision numbers must be integers: {numbers}")
    elif numbers != sorted(numbers, key=int) or len(set(numbers)) != len(numbers):
        problems.append(f"revision numbers must increase (6.1.14, 6.1.22): {numbers}")
    if adv.tracking.status == "draft" and numbers and numbers[-1].isdigit() and int(numbers[-1]):
        problems.append("a draft is version 0 (6.1.17)")
    if adv.tracking.status != "draft" and "0" in numbers:
        problems.append("a released document has no revision 0 (6.1.18)")
    defined = [p.product_id for p in adv.products]
    dupes = sorted({d for d in defined if defined.count(d) > 1})
    if dupes:
        problems.append(f"product ids defined twice (6.1.2): {dupes}")
    for p in adv.products:
        if p.version is not None and p.version_range is not None:
            problems.append(f"product {p.product_id} has both a version and a version range")
        if p.version_range is not None and not p.version_range.startswith("vers:"):
            problems.append(f"product {p.product_id}: a version range is a vers: string")
    if category in (SECURITY_ADVISORY, VEX):
        if not {n.category for n in adv.notes} & _PROFILE_NOTES:
            problems.append(
                "the document needs a note of category description, details, general or "
                "summary (6.1.27.1)"
            )
        if category == SECURITY_ADVISORY and not any(
            r.category == "external" for r in adv.references
        ):
            problems.append("the document needs an external reference (6.1.27.2)")
        if not adv.products:
            problems.append("the document needs products (6.1.27.4)")
        if not adv.vulnerabilities:
            problems.append("the document needs a vulnerability (6.1.27.3)")
    known = set(defined)
    cves = [v.cve for v in adv.vulnerabilities if v.cve]
    if len(cves) != len(set(cves)):
        problems.append(f"a CVE is used twice (6.1.23): {cves}")
    for i, v in enumerate(adv.vulnerabilities):
        problems.extend(_check_vulnerability(i, v, known, category))
    if problems:
        raise InvalidCsaf("cannot write the CSAF document: " + "; ".join(problems))


def _check_vulnerability(i: int, v: Vulnerability, known: set[str], category: str) -> list[str]:
    where = f"vulnerability {v.cve or i}"
    problems = []
    used = {s.product_id for s in v.statuses}
    used |= {p for r in v.remediations for p in r.product_ids}
    used |= {p for s in v.scores for p in s.product_ids}
    missing = sorted(used - known)
    if missing:
        problems.append(f"{where} names undefined products (6.1.1): {missing}")
    seen = [s.product_id for s in v.statuses]
    twice = sorted({p for p in seen if seen.count(p) > 1})
    if twice:
        problems.append(f"{where} gives products more than one status (6.1.6, 6.1.33): {twice}")
    if not v.notes:
        problems.append(f"{where} needs a note (6.1.27.5)")
    if not v.statuses:
        problems.append(f"{where} needs a product status (6.1.27.6)")
    for r in v.remediations:
        if not r.product_ids:
            problems.append(f"{where}: a remediation names no product (6.1.29)")
    scored = [p for s in v.scores for p in s.product_ids]
    if len(scored) != len(set(scored)):
        problems.append(f"{where} scores a product twice (6.1.7)")
    for s in v.statuses:
        if s.justification and s.status != "known_not_affected":
            problems.append(f"{where}: a justification is for known_not_affected only (§3.2.3.5)")
    if category == VEX:
        if not v.cve and not v.ids:
            problems.append(f"{where} needs a CVE or an id (6.1.27.8)")
        if not any(s.status in _VEX_STATUSES for s in v.statuses):
            problems.append(f"{where} needs a VEX status (6.1.27.7)")
        remedied = {p for r in v.remediations for p in r.product_ids}
        for s in v.statuses:
            if s.status == "known_not_affected" and not (s.justification or s.impact_statement):
                problems.append(
                    f"{where}: {s.product_id} is not affected without a justification or "
                    "impact statement (6.1.27.9)"
                )
            if s.status == "known_affected" and s.product_id not in remedied:
                problems.append(
                    f"{where}: {s.product_id} is affected without a remediation (6.1.27.10)"
                )
    return problems
