"""CVD case objects on the wire: plain STIX 2.1 that travels through the gate and federation.

Every object of a case references the case (rule 7 withholds what hangs off a case the
recipient may not see) and carries its author's handling marking (see ``case_marking``):

- case: a ``grouping`` (context ``unspecified``) whose ``object_refs`` are its vulnerabilities;
  reporter, coordinators, vendors and TLP in kizuna's CVD extension;
- vulnerability: a ``vulnerability`` with CVE / EUVD / JVN ids and CWE as external references,
  affected products (CPE / purl, version or ``vers:`` range) and ``case_ref`` in the extension;
- event: a ``note`` referencing the case: one recorded transition (who, when, why) of the report,
  the embargo, a participant, the case state, a (vendor, vulnerability) status, SSVC or CVSS;
- statement: a ``note`` referencing the case, a vendor statement drafted → approved → shared
  (a draft and an approved statement are marked for their author alone).

kizuna's fields sit in one property extension (``CVD_EXTENSION``). The state of a case is the
fold of its events in time order (``read``): every node holding the same events computes the
same case.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.core.cvd import states
from kizuna.errors import InvalidInput

CVD_EXTENSION = "extension-definition--2f6c1a9e-7d3b-4c55-9e1a-8b0d4c6f2e71"
_NS = uuid.UUID("5d0b7a3c-1e2f-4a6b-8c9d-0e1f2a3b4c5d")

VEX_STATUSES: tuple[str, ...] = ("under_investigation", "known_affected", "known_not_affected",
                                 "fixed")  # fmt: skip
# CSAF 2.0 flag labels (section 3.2.3.5), the VEX justifications.
VEX_JUSTIFICATIONS: tuple[str, ...] = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "inline_mitigations_already_exist",
)
STATEMENT_STATES: tuple[str, ...] = ("draft", "approved", "shared")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_EUVD = re.compile(r"^EUVD-\d{4}-\d+$")
_JVN = re.compile(r"^JVN(?:DB-\d{4}-\d{6}|VU#\d+|#\d+)$")
_CWE = re.compile(r"^CWE-\d+$")
_FPR = re.compile(r"^[0-9A-F]{40}$|^[0-9A-F]{64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def derived_id(stix_type: str, *parts: str) -> str:
    return f"{stix_type}--{uuid.uuid5(_NS, '|'.join(parts))}"


def _bad(msg: str) -> InvalidInput:
    return InvalidInput(msg, code="invalid-case")


@dataclass(frozen=True)
class Vendor:
    """A vendor: a party of the federation, or an external contact kizuna only records."""

    name: str
    party: str | None = None
    email: str | None = None
    pgp: str | None = None

    def check(self) -> None:
        if not self.name.strip():
            raise _bad("a vendor needs a name")
        if self.email is not None and not _EMAIL.match(self.email):
            raise _bad(f"vendor {self.name}: {self.email!r} is not an e-mail address")
        if self.pgp is not None:
            fpr = self.pgp.replace(" ", "").upper()
            if not _FPR.match(fpr):
                raise _bad(
                    f"vendor {self.name}: {self.pgp!r} is not a PGP fingerprint "
                    "(40 or 64 hex digits)"
                )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.party:
            out["party"] = self.party
        if self.email:
            out["email"] = self.email
        if self.pgp:
            out["pgp_fingerprint"] = self.pgp.replace(" ", "").upper()
        return out


@dataclass(frozen=True)
class Product:
    vendor: str
    name: str
    version: str | None = None
    version_range: str | None = None  # a ``vers:`` range, e.g. ``vers:generic/<2.3``
    cpe: str | None = None
    purl: str | None = None

    def check(self) -> None:
        if not self.name.strip() or not self.vendor.strip():
            raise _bad("a product needs a vendor and a name")
        if self.version and self.version_range:
            raise _bad(f"product {self.name}: a version or a version range, not both")
        if self.version_range and not self.version_range.startswith("vers:"):
            raise _bad(f"product {self.name}: {self.version_range!r} is no vers: range")
        if self.cpe and not self.cpe.startswith(("cpe:2.3:", "cpe:/")):
            raise _bad(f"product {self.name}: {self.cpe!r} is no CPE")
        if self.purl and not self.purl.startswith("pkg:"):
            raise _bad(f"product {self.name}: {self.purl!r} is no purl")

    @property
    def key(self) -> str:
        return f"{self.vendor}/{self.name}/{self.version or self.version_range or '*'}"


@dataclass(frozen=True)
class Vulnerability:
    title: str
    cve: str | None = None
    euvd: str | None = None
    jvn: str | None = None
    cwe: str | None = None
    description: str = ""
    products: tuple[Product, ...] = ()

    def check(self) -> None:
        if not self.title.strip():
            raise _bad("a vulnerability needs a title")
        for value, pattern, what in ((self.cve, _CVE, "CVE id (CVE-YYYY-NNNN)"),
                                     (self.euvd, _EUVD, "EUVD id (EUVD-YYYY-N)"),
                                     (self.jvn, _JVN, "JVN id (JVNVU#N or JVNDB-YYYY-NNNNNN)"),
                                     (self.cwe, _CWE, "CWE id (CWE-N)")):  # fmt: skip
            if value is not None and not pattern.match(value):
                raise _bad(f"{value!r} is not a {what}")
        for p in self.products:
            p.check()

    @property
    def label(self) -> str:
        return self.cve or self.euvd or self.jvn or self.title


def _ext(role: str, **fields: Any) -> dict[str, Any]:
    return {CVD_EXTENSION: {"extension_type": "property-extension", "role": role, **fields}}


def role_of(obj: Mapping[str, Any]) -> str | None:
    ext = (obj.get("extensions") or {}).get(CVD_EXTENSION)
    return str(ext.get("role")) if isinstance(ext, dict) else None


def fields_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    return dict(obj["extensions"][CVD_EXTENSION])


def _base(
    stix_type: str, oid: str, stamp: str, author: str, markings: Sequence[str]
) -> dict[str, Any]:
    return {"type": stix_type, "spec_version": "2.1", "id": oid, "created": stamp,
            "modified": stamp, "created_by_ref": author,
            "object_marking_refs": list(markings)}  # fmt: skip


def case(
    oid: str,
    stamp: str,
    author: str,
    markings: Sequence[str],
    *,
    title: str,
    reporter: str,
    coordinators: Sequence[str],
    vendors: Sequence[Vendor],
    vulnerabilities: Sequence[str],
    tlp: str,
) -> dict[str, Any]:
    if not title.strip():
        raise _bad("a case needs a title")
    if not vulnerabilities:
        raise _bad("a case is about at least one vulnerability")
    if not coordinators:
        raise _bad("a case has at least one coordinator")
    for v in vendors:
        v.check()
    return {
        **_base("grouping", oid, stamp, author, markings),
        "name": title,
        "context": "unspecified",
        "object_refs": list(vulnerabilities),
        "extensions": _ext(
            "case",
            reporter=reporter,
            coordinators=sorted(set(coordinators)),
            vendors=[v.to_dict() for v in vendors],
            tlp=tlp,
        ),
    }


def vulnerability(
    case_id: str, oid: str, v: Vulnerability, stamp: str, author: str, markings: Sequence[str]
) -> dict[str, Any]:
    v.check()
    named = (("cve", v.cve), ("euvd", v.euvd), ("jvn", v.jvn), ("cwe", v.cwe))
    refs = [{"source_name": s, "external_id": i} for s, i in named if i]
    obj = {
        **_base("vulnerability", oid, stamp, author, markings),
        "name": v.label,
        "extensions": _ext(
            "vulnerability",
            case_ref=case_id,
            title=v.title,
            products=[
                {k: val for k, val in p.__dict__.items() if val is not None} for p in v.products
            ],
        ),
    }
    if v.description:
        obj["description"] = v.description
    if refs:
        obj["external_references"] = refs
    return obj


def event(
    case_id: str,
    oid: str,
    stamp: str,
    author: str,
    markings: Sequence[str],
    *,
    machine: str,
    actor: str,
    why: str,
    **detail: Any,
) -> dict[str, Any]:
    return {
        **_base("note", oid, stamp, author, markings),
        "abstract": f"cvd {machine}",
        "content": why or f"{machine} event",
        "object_refs": [case_id],
        "extensions": _ext("event", machine=machine, actor=actor, why=why, **detail),
    }


def statement(
    case_id: str,
    oid: str,
    stamp: str,
    created: str,
    author: str,
    markings: Sequence[str],
    *,
    vendor: str,
    text: str,
    state: str,
    vulnerability_id: str | None,
) -> dict[str, Any]:
    if state not in STATEMENT_STATES:
        raise _bad(f"statement state {state!r}: one of {', '.join(STATEMENT_STATES)}")
    if not text.strip():
        raise _bad("a statement needs text")
    obj = {
        **_base("note", oid, stamp, author, markings),
        "abstract": f"vendor statement ({state})",
        "content": text,
        "object_refs": [case_id],
        "extensions": _ext(
            "statement", vendor=vendor, state=state, vulnerability=vulnerability_id or ""
        ),
    }
    obj["created"] = created
    return obj


@dataclass
class CaseState:
    """A case as the fold of the objects one viewer holds."""

    id: str
    title: str
    tlp: str
    author: str
    reporter: str
    coordinators: tuple[str, ...]
    vendors: tuple[dict[str, Any], ...]
    vulnerabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: str = "received"
    embargo: str = "none"
    embargo_until: str | None = None
    proposed_until: str | None = None
    participants: dict[str, str] = field(default_factory=dict)  # party -> invited/signatory/…
    flags: frozenset[str] = frozenset()
    statuses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    ssvc: list[dict[str, Any]] = field(default_factory=list)
    cvss: list[dict[str, Any]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)
    advisories: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[states.Transition] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # events that did not apply, with why

    @property
    def members(self) -> frozenset[str]:
        """Who may see the case: its author, coordinators and signatories."""
        signed = {p for p, s in self.participants.items() if s == "signatory"}
        return frozenset({self.author, *self.coordinators, *signed})

    @property
    def embargoed(self) -> bool:
        return self.embargo in ("active", "revise")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "tlp": self.tlp,
            "reporter": self.reporter,
            "coordinators": list(self.coordinators),
            "vendors": list(self.vendors),
            "vulnerabilities": list(self.vulnerabilities.values()),
            "report_state": self.report,
            "case_state": states.cs_string(self.flags),
            "case_flags": sorted(self.flags),
            "embargo": {
                "state": self.embargo,
                "until": self.embargo_until,
                "proposed_until": self.proposed_until,
                "participants": dict(sorted(self.participants.items())),
            },
            "statuses": [
                {"vendor": k[0], "vulnerability": k[1], **v}
                for k, v in sorted(self.statuses.items())
            ],
            "ssvc": self.ssvc,
            "cvss": self.cvss,
            "statements": self.statements,
            "advisories": self.advisories,
            "timeline": [
                {"machine": t.machine, "actor": t.actor, "at": t.at, "why": t.why, **t.detail}
                for t in self.timeline
            ],
        }


def apply(state: CaseState, f: Mapping[str, Any], at: str) -> None:
    """Apply one event's fields to the state (raises InvalidInput when it does not apply)."""
    machine = f["machine"]
    if machine == "report":
        if f.get("initial") and f.get("to") == "received":
            return  # the report's arrival: the case starts in received
        state.report = states.rm_move(state.report, str(f["to"]))
    elif machine == "case":
        state.flags = states.cs_set(state.flags, str(f["flag"]))
    elif machine == "participant":
        party = str(f["party"])
        state.participants[party] = states.participant_move(
            state.participants.get(party), str(f["to"])
        )
    elif machine == "embargo":
        action = str(f["action"])
        new = states.em_move(state.embargo, action)
        if action == "propose":
            state.proposed_until = str(f["until"])
        elif action == "accept":
            state.embargo_until = state.proposed_until
            state.proposed_until = None
        elif action in ("reject", "exit"):
            state.proposed_until = None
        state.embargo = new
    elif machine == "status":
        status = str(f["status"])
        if status not in VEX_STATUSES:
            raise _bad(f"status {status!r}: one of {', '.join(VEX_STATUSES)}")
        just = f.get("justification") or None
        if status == "known_not_affected" and not (just or f.get("impact")):
            raise _bad("known_not_affected needs a VEX justification or an impact statement")
        if just is not None and just not in VEX_JUSTIFICATIONS:
            raise _bad(f"justification {just!r}: one of {', '.join(VEX_JUSTIFICATIONS)}")
        entry = {"status": status, "at": at}
        if just:
            entry["justification"] = just
        if f.get("impact"):
            entry["impact"] = f["impact"]
        state.statuses[(str(f["vendor"]), str(f["vulnerability"]))] = entry
    elif machine == "advisory":
        state.advisories.append({"at": at, "summary": str(f["summary"]), "kind": str(f["kind"]),
                                 "status": str(f["status"])})  # fmt: skip
    elif machine == "ssvc":
        state.ssvc.append({"at": at, **dict(f["decision"])})
    elif machine == "cvss":
        state.cvss.append({"at": at, "vulnerability": f["vulnerability"], "vector": f["vector"],
                           "version": f["version"], "base_score": f["base_score"],
                           "severity": f["severity"]})  # fmt: skip
    else:
        raise _bad(f"unknown event {machine!r}")


def read(case_obj: Mapping[str, Any], objects: Iterable[Mapping[str, Any]]) -> CaseState:
    """Fold a case's objects (latest versions) into its state, events in time order."""
    f = fields_of(case_obj)
    st = CaseState(
        id=str(case_obj["id"]),
        title=str(case_obj.get("name", "")),
        tlp=str(f.get("tlp", "amber")),
        author=str(case_obj.get("created_by_ref")),
        reporter=str(f.get("reporter", "")),
        coordinators=tuple(f.get("coordinators", ())),
        vendors=tuple(f.get("vendors", ())),
    )
    events = []
    for obj in objects:
        role = role_of(obj)
        if role == "vulnerability":
            ef = fields_of(obj)
            st.vulnerabilities[str(obj["id"])] = {
                "id": obj["id"],
                "name": obj.get("name"),
                "title": ef.get("title"),
                "description": obj.get("description", ""),
                "ids": {
                    r["source_name"]: r["external_id"] for r in obj.get("external_references", ())
                },
                "products": ef.get("products", []),
            }
        elif role == "event":
            events.append(obj)
        elif role == "statement":
            sf = fields_of(obj)
            st.statements.append({"id": obj["id"], "vendor": sf["vendor"], "state": sf["state"],
                                  "vulnerability": sf.get("vulnerability") or None,
                                  "text": obj.get("content", ""), "author": obj["created_by_ref"],
                                  "modified": obj["modified"]})  # fmt: skip
    for ev in sorted(events, key=lambda o: (str(o["created"]), str(o["id"]))):
        ef = fields_of(ev)
        try:
            apply(st, ef, str(ev["created"]))
        except (InvalidInput, KeyError, TypeError, ValueError) as exc:
            st.refused.append(f"{ev['id']}: {exc}")
            continue
        detail = {k: v for k, v in ef.items()
                  if k not in ("extension_type", "role", "machine", "actor", "why")}  # fmt: skip
        st.timeline.append(
            states.Transition(
                str(ef["machine"]),
                str(ef["actor"]),
                str(ev["created"]),
                str(ef.get("why", "")),
                detail,
            )
        )
    return st
