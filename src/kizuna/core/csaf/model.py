"""The input of the CSAF 2.0 writer: an advisory as plain frozen dataclasses (pure, no I/O).

One `Advisory` yields both a security advisory (csaf_security_advisory) and a VEX document
(csaf_vex); the writer (`kizuna.core.csaf.writer`) builds the product tree, product status,
flags, threats and scores from it. Field names follow CSAF 2.0 (section 3.2) where they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# CSAF 2.0 §3.2.1.8 publisher categories.
PublisherCategory = Literal["coordinator", "discoverer", "other", "translator", "user", "vendor"]
# CSAF 2.0 §3.2.1.12.5 tracking status.
TrackingStatus = Literal["draft", "interim", "final"]
# kizuna's TLP words (TLP 2.0); CSAF 2.0 knows TLP 1.0 labels, the writer maps them (§3.2.1.5).
Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
# CSAF 2.0 §3.1.9 note categories.
NoteCategory = Literal[
    "description", "details", "faq", "general", "legal_disclaimer", "other", "summary"
]
# CSAF 2.0 §3.2.3.9 product status groups; the VEX four are the first four.
Status = Literal[
    "known_affected",
    "known_not_affected",
    "fixed",
    "under_investigation",
    "first_affected",
    "last_affected",
    "first_fixed",
    "recommended",
]
# CSAF 2.0 §3.2.3.5 flag labels: the VEX justifications for "not affected".
Justification = Literal[
    "component_not_present",
    "inline_mitigations_already_exist",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present",
]
# CSAF 2.0 §3.2.3.12 remediation categories.
RemediationCategory = Literal[
    "mitigation", "no_fix_planned", "none_available", "vendor_fix", "workaround"
]


@dataclass(frozen=True)
class Publisher:
    """Who issues the document (§3.2.1.8); `namespace` is the publisher's URL."""

    name: str
    namespace: str
    category: PublisherCategory = "coordinator"
    contact_details: str | None = None
    issuing_authority: str | None = None


@dataclass(frozen=True)
class Revision:
    """One revision history entry (§3.2.1.12.6); `number` is an integer version string."""

    number: str
    date: datetime
    summary: str


@dataclass(frozen=True)
class Tracking:
    """Document tracking (§3.2.1.12); the current release date is the last revision's date."""

    id: str
    revisions: tuple[Revision, ...]
    status: TrackingStatus = "final"
    initial_release_date: datetime | None = None  # default: first revision's date


@dataclass(frozen=True)
class Note:
    """A note (§3.1.9), on the document or on one vulnerability."""

    category: NoteCategory
    text: str
    title: str | None = None
    audience: str | None = None


@dataclass(frozen=True)
class Reference:
    """A reference (§3.1.11): `category` "self" for the document's own URL, else "external"."""

    url: str
    summary: str
    category: Literal["external", "self"] = "external"


@dataclass(frozen=True)
class Product:
    """An affected/considered product: one leaf of the product tree.

    Branches are vendor → product_name → product_version (when `version` is given) or
    product_version_range (when `version_range` is given, a `vers:` string such as
    "vers:generic/>=1.0|<2.3": a range never goes into product_version, mandatory test 6.1.31).
    Exactly one of `version` / `version_range` may be set; neither means the product as a whole.
    """

    product_id: str
    vendor: str
    name: str
    version: str | None = None
    version_range: str | None = None
    cpe: str | None = None
    purl: str | None = None


@dataclass(frozen=True)
class Cwe:
    """A CWE (§3.2.3.3); `name` must be MITRE's exact name for the id (test 6.1.11)."""

    id: str  # "CWE-79"
    name: str


@dataclass(frozen=True)
class Score:
    """A CVSS v3.x or v2 vector for some products (§3.2.3.11); the writer computes the scores."""

    vector: str  # "CVSS:3.1/AV:N/..." or a CVSS v2 vector "AV:N/AC:L/..."
    product_ids: tuple[str, ...]


@dataclass(frozen=True)
class ProductStatus:
    """The status of one product for one vulnerability (VEX status and justification).

    For "known_not_affected" give a `justification` (written as a flag) and/or an
    `impact_statement` (written as a threat of category "impact"); for "known_affected" in a
    VEX document give a remediation for the product (csaf_vex test 6.1.27.10).
    """

    product_id: str
    status: Status
    justification: Justification | None = None
    impact_statement: str | None = None


@dataclass(frozen=True)
class Remediation:
    """A remediation (§3.2.3.12) for some products."""

    category: RemediationCategory
    details: str
    product_ids: tuple[str, ...]
    url: str | None = None
    date: datetime | None = None


@dataclass(frozen=True)
class VulnerabilityId:
    """A non-CVE id (§3.2.3.6), e.g. system "EUVD" / "JVN" and its text."""

    system_name: str
    text: str


@dataclass(frozen=True)
class Vulnerability:
    """One vulnerability of the advisory (§3.2.3)."""

    cve: str | None = None
    ids: tuple[VulnerabilityId, ...] = ()
    title: str | None = None
    cwe: Cwe | None = None
    scores: tuple[Score, ...] = ()
    statuses: tuple[ProductStatus, ...] = ()
    remediations: tuple[Remediation, ...] = ()
    notes: tuple[Note, ...] = ()
    references: tuple[Reference, ...] = ()
    discovery_date: datetime | None = None
    release_date: datetime | None = None


@dataclass(frozen=True)
class Advisory:
    """What the writer turns into a csaf_security_advisory or a csaf_vex document.

    `notes` must hold at least one of description/details/general/summary and `references` at
    least one "external" reference for the security advisory profile (test 6.1.27.x).
    """

    title: str
    publisher: Publisher
    tracking: Tracking
    tlp: Tlp = "clear"
    lang: str = "en"
    products: tuple[Product, ...] = ()
    vulnerabilities: tuple[Vulnerability, ...] = ()
    notes: tuple[Note, ...] = ()
    references: tuple[Reference, ...] = ()
    distribution_text: str | None = None
    tlp_url: str = field(default="https://www.first.org/tlp/")
