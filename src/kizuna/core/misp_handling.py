"""MISP tags and distribution → kizuna handling, as one table (DESIGN.md "Markings on the wire").

The rows below are the mapping: ``TAG_TABLE`` for taxonomy tags, ``DISTRIBUTIONS`` for MISP's
distribution levels, ``IEP_FIELDS`` for the IEP taxonomies. ``docs/misp-mapping.md`` is generated
from them by ``markdown_tables`` (a test keeps the two equal). Two rules hold throughout:

* Never wider: every part of an event's handling (its tags, its distribution, and those of each
  attribute and object) becomes a marking, and ``markings.handling_of`` lets the strictest win.
  Distribution adds a TLP ceiling, a release rule and a recipients list; it never loosens a tag.
* What kizuna cannot read it does not release: a tag in a handling namespace with a value this
  table does not know (``tlp:unclear`` included) keeps the object on the node (recipients: the
  home party only) and stays visible as a label. An event without a TLP tag gets the node's
  default TLP (``misp_default_tlp``), never CLEAR.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.core.handling import Classification, stricter_tlp
from kizuna.core.markings import IEP_EXTENSION, TLP_MARKING_ID, handling_marking
from kizuna.core.well_known import MARKING_CREATED, content_id, pap_marking

HANDLING_NAMESPACES = frozenset(
    {"tlp", "pap", "de-vs", "euci", "nato", "iep", "iep2-policy", "iep2-reference"}
)


@dataclass(frozen=True)
class TagRow:
    """One taxonomy tag and the handling it demands."""

    tag: str
    meaning: str
    tlp: str | None = None
    pap: str | None = None
    classification: Classification | None = None
    release_rule: str | None = None
    home_only: bool = False
    statement: str | None = None


def _de(value: str, level: str) -> TagRow:
    return TagRow(
        f'de-vs:Einstufung="{value}"', f"DE {level}", classification=Classification("DE", level)
    )


def _eu(predicate: str, level: str) -> TagRow:
    return TagRow(f"euci:{predicate}", f"EU {level}", classification=Classification("EU", level))


def _nato(code: str, level: str) -> TagRow:
    return TagRow(
        f'nato:classification="{code}"',
        f"NATO {level}",
        classification=Classification("NATO", level),
    )


TAG_TABLE: tuple[TagRow, ...] = (
    TagRow("tlp:clear", "TLP:CLEAR", tlp="clear"),
    TagRow("tlp:white", "TLP:CLEAR (TLP 1.0 WHITE)", tlp="clear"),
    TagRow("tlp:green", "TLP:GREEN", tlp="green"),
    TagRow("tlp:amber", "TLP:AMBER", tlp="amber"),
    TagRow("tlp:amber+strict", "TLP:AMBER+STRICT", tlp="amber+strict"),
    TagRow("tlp:red", "TLP:RED", tlp="red"),
    TagRow(
        "tlp:ex:chr",
        "statement: Chatham House Rule",
        statement="TLP:EX:CHR: Chatham House Rule; the source of this information must not be"
        " disclosed.",
    ),
    TagRow("tlp:unclear", "unreadable: stays on the node", home_only=True),
    TagRow("PAP:CLEAR", "PAP:CLEAR", pap="clear"),
    TagRow("PAP:WHITE", "PAP:CLEAR (PAP 1.0 WHITE)", pap="clear"),
    TagRow("PAP:GREEN", "PAP:GREEN", pap="green"),
    TagRow("PAP:AMBER", "PAP:AMBER", pap="amber"),
    TagRow("PAP:RED", "PAP:RED", pap="red"),
    _de("STRENG GEHEIM", "STRENG GEHEIM"),
    _de("GEHEIM", "GEHEIM"),
    _de("VS-VERTRAULICH", "VS-VERTRAULICH"),
    _de("VS-NfD", "VS-NUR FÜR DEN DIENSTGEBRAUCH"),
    _eu("TS-UE/EU-TS", "TRES SECRET UE/EU TOP SECRET"),
    _eu("S-UE/EU-S", "SECRET UE/EU SECRET"),
    _eu("C-UE/EU-C", "CONFIDENTIEL UE/EU CONFIDENTIAL"),
    _eu("R-UE/EU-R", "RESTREINT UE/EU RESTRICTED"),
    _nato("CTS", "COSMIC TOP SECRET"),
    _nato("NS", "NATO SECRET"),
    _nato("NC", "NATO CONFIDENTIAL"),
    _nato("NR", "NATO RESTRICTED"),
    # Special categories keep a level of their own: only an agreement that names it releases it.
    _nato("CTS-A", "COSMIC TOP SECRET ATOMAL"),
    _nato("CTS-B", "COSMIC TOP SECRET BOHEMIA"),
    _nato("NS-A", "SECRET ATOMAL"),
    _nato("NC-A", "CONFIDENTIAL ATOMAL"),
    # Not classified, but not public either: release beyond NATO needs the originator's consent.
    TagRow(
        'nato:classification="NU"',
        "NATO UNCLASSIFIED: TLP:AMBER, originator-consent",
        tlp="amber",
        release_rule="originator-consent",
    ),
)


@dataclass(frozen=True)
class DistributionRow:
    """One MISP distribution level and the handling it adds."""

    level: int
    name: str
    tlp_ceiling: str | None
    release_rule: str | None
    recipients: str | None  # "home", "home+clients", "sharing-group" or None (no list)
    why: str


DISTRIBUTIONS: dict[int, DistributionRow] = {
    row.level: row
    for row in (
        DistributionRow(
            0, "Your organisation only", "amber+strict", "no-onward", "home",
            "only the importing organisation may see it: nothing leaves the node",
        ),
        DistributionRow(
            1, "This community only", "amber", "no-onward", "home+clients",
            "the MISP community of the importer: the home party and its declared clients,"
            " one hop, never further",
        ),
        DistributionRow(
            2, "Connected communities", "green", "no-onward", None,
            "one hop to connected communities (parties under an agreement), never further",
        ),
        DistributionRow(
            3, "All communities", None, None, None,
            "no limit from distribution; the TLP tag (or the node's default TLP) governs",
        ),
        DistributionRow(
            4, "Sharing group", "amber+strict", "no-onward", "sharing-group",
            "only the sharing group's organisations that are kizuna parties (by uuid, then"
            " by exact name); none resolvable: the home party only",
        ),
        DistributionRow(
            5, "Inherit event", None, None, None,
            "an attribute or object takes its event's distribution (no marking of its own)",
        ),
    )
}  # fmt: skip

# Handling that could not be read: keep it on the node.
_UNREADABLE = DistributionRow(
    -1, "unreadable handling tag", "amber+strict", "no-onward", "home", "fail closed"
)

# IEP taxonomies: (namespace, predicate) → property of the IEP 2.0 marking extension. Values of
# vocabulary fields are lower-cased with spaces as hyphens; text fields are kept as written.
IEP_FIELDS: dict[tuple[str, str], str] = {
    ("iep2-policy", "id"): "iep_id",
    ("iep2-policy", "name"): "name",
    ("iep2-policy", "description"): "description",
    ("iep2-policy", "iep_version"): "iep_version",
    ("iep2-policy", "start_date"): "start_date",
    ("iep2-policy", "end_date"): "end_date",
    ("iep2-policy", "encrypt_in_transit"): "encrypt_in_transit",
    ("iep2-policy", "permitted_actions"): "permitted_actions",
    ("iep2-policy", "affected_party_notifications"): "affected_party_notifications",
    ("iep2-policy", "tlp"): "tlp",
    ("iep2-policy", "attribution"): "provider_attribution",
    ("iep2-policy", "unmodified_resale"): "unmodified_resale",
    ("iep2-policy", "external_reference"): "external_reference",
    ("iep2-reference", "id_ref"): "iep_reference_id",
    ("iep2-reference", "url"): "iep_reference_url",
    ("iep2-reference", "iep_version"): "iep_version",
    ("iep", "traffic-light-protocol"): "tlp",
    ("iep", "commercial-use"): "commercial_use",
    ("iep", "external-reference"): "external_reference",
    ("iep", "encrypt-in-transit"): "encrypt_in_transit",
    ("iep", "encrypt-at-rest"): "encrypt_at_rest",
    ("iep", "permitted-actions"): "permitted_actions",
    ("iep", "affected-party-notifications"): "affected_party_notifications",
    ("iep", "provider-attribution"): "provider_attribution",
    ("iep", "obfuscate-affected-parties"): "obfuscate_affected_parties",
    ("iep", "unmodified-resale"): "unmodified_resale",
    ("iep", "start-date"): "start_date",
    ("iep", "end-date"): "end_date",
    ("iep", "reference"): "iep_reference_url",
    ("iep", "name"): "name",
    ("iep", "version"): "iep_version",
    ("iep", "id"): "iep_id",
}
_IEP_TEXT = frozenset(
    {"iep_id", "name", "description", "iep_version", "start_date", "end_date",
     "external_reference", "iep_reference_id", "iep_reference_url"}
)  # fmt: skip

# ns:predicate or ns:predicate="value" (MISP machine tags).
_MACHINE_TAG = re.compile(r'^(?P<ns>[^:="]+):(?P<pred>[^="]+?)(?:="(?P<value>.*)")?$', re.DOTALL)


def parse_tag(tag: str) -> tuple[str, str, str | None] | None:
    """A machine tag's (namespace, predicate, value); None for a plain tag."""
    m = _MACHINE_TAG.match(tag.strip())
    if m is None:
        return None
    return m["ns"], m["pred"], m["value"]


def _key(tag: str) -> tuple[str, str, str | None] | None:
    parsed = parse_tag(tag)
    if parsed is None:
        return None
    ns, pred, value = parsed
    return ns.casefold(), pred.casefold(), value.casefold() if value is not None else None


_BY_KEY: dict[tuple[str, str, str | None], TagRow] = {}
for _row in TAG_TABLE:
    _k = _key(_row.tag)
    assert _k is not None, _row.tag
    _BY_KEY[_k] = _row


@dataclass(frozen=True)
class Directory:
    """What the mapping needs to know about the node: its home party, clients, parties, default."""

    home: str
    clients: frozenset[str] = frozenset()
    # MISP organisation uuid → party id, and case-folded organisation name → party id.
    by_uuid: Mapping[str, str] = field(default_factory=dict)
    by_name: Mapping[str, str] = field(default_factory=dict)
    default_tlp: str = "amber"

    def resolve_org(self, org: Mapping[str, Any]) -> str | None:
        """The party a MISP organisation is, by uuid first and exact name second."""
        org_uuid = str(org.get("uuid") or "")
        if org_uuid in self.by_uuid:
            return self.by_uuid[org_uuid]
        name = str(org.get("name") or "").strip().casefold()
        return self.by_name.get(name) if name else None


@dataclass
class Spec:
    """The handling one MISP element (event, attribute or object) demands, before markings."""

    tlp: str | None = None
    pap: str | None = None
    classifications: set[Classification] = field(default_factory=set)
    release_rule: str | None = None
    recipients: frozenset[str] | None = None
    iep: dict[str, str] = field(default_factory=dict)
    statements: set[str] = field(default_factory=set)
    consumed: set[str] = field(default_factory=set)  # tags turned into markings
    unreadable: list[str] = field(default_factory=list)  # handling tags that could not be read
    distribution: str | None = None  # the name of the distribution row applied, if any

    def restrict(self, rule: str | None, recipients: frozenset[str] | None) -> None:
        if rule is not None and (
            self.release_rule is None or _rank(rule) > _rank(self.release_rule)
        ):
            self.release_rule = rule
        if recipients is not None:
            self.recipients = (
                recipients if self.recipients is None else self.recipients & recipients
            )

    @property
    def has_tlp(self) -> bool:
        return self.tlp is not None or "tlp" in self.iep


def _rank(rule: str) -> int:
    return {"agreement-members": 0, "originator-consent": 1, "no-onward": 2}[rule]


def _iep_value(prop: str, value: str) -> str:
    return value if prop in _IEP_TEXT else value.strip().lower().replace(" ", "-")


def read_tags(tags: Iterable[str], directory: Directory, spec: Spec | None = None) -> Spec:
    """Fold taxonomy tags into a spec; tags outside the handling namespaces are left alone."""
    spec = spec if spec is not None else Spec()
    for tag in tags:
        key = _key(tag)
        if key is None or key[0] not in HANDLING_NAMESPACES:
            continue
        row = _BY_KEY.get(key)
        if row is None and key[0].startswith("iep"):
            prop = IEP_FIELDS.get((key[0], key[1]))
            parsed = parse_tag(tag)
            if prop is not None and parsed is not None and parsed[2] is not None:
                spec.iep[prop] = _iep_value(prop, parsed[2])
                spec.consumed.add(tag)
                continue
        if row is None and key[0] == "de-vs" and key[1] == "schutzwort":
            parsed = parse_tag(tag)
            row = TagRow(tag, "codeword", statement=f"Schutzwort: {parsed and parsed[2]}",
                         home_only=True)  # fmt: skip
        if row is None:
            spec.unreadable.append(tag)
            _apply_distribution(spec, _UNREADABLE, directory, None)
            continue
        if row.home_only:
            # Readable enough to know it restricts, not enough to know how: keep it home.
            spec.unreadable.append(tag)
            _apply_distribution(spec, _UNREADABLE, directory, None)
        else:
            spec.consumed.add(tag)
        if row.tlp is not None:
            spec.tlp = stricter_tlp(spec.tlp, row.tlp)
        if row.pap is not None:
            spec.pap = _stricter_pap(spec.pap, row.pap)
        if row.classification is not None:
            spec.classifications.add(row.classification)
        if row.statement is not None:
            spec.statements.add(row.statement)
        if row.release_rule is not None:
            spec.restrict(row.release_rule, None)
    return spec


_PAP_ORDER = ("clear", "green", "amber", "red")


def _stricter_pap(a: str | None, b: str) -> str:
    if a is None:
        return b
    return a if _PAP_ORDER.index(a) >= _PAP_ORDER.index(b) else b


def _apply_distribution(
    spec: Spec, row: DistributionRow, directory: Directory, sharing_group: Mapping[str, Any] | None
) -> None:
    spec.tlp = stricter_tlp(spec.tlp, row.tlp_ceiling)
    recipients: frozenset[str] | None = None
    if row.recipients == "home":
        recipients = frozenset({directory.home})
    elif row.recipients == "home+clients":
        recipients = frozenset({directory.home}) | directory.clients
    elif row.recipients == "sharing-group":
        recipients = frozenset({directory.home}) | sharing_group_parties(sharing_group, directory)
    spec.restrict(row.release_rule, recipients)
    if row.level >= 0:
        spec.distribution = row.name


def sharing_group_parties(
    sharing_group: Mapping[str, Any] | None, directory: Directory
) -> frozenset[str]:
    """The parties a MISP sharing group names that this node knows (others are dropped)."""
    if not sharing_group:
        return frozenset()
    found: set[str] = set()
    entries = sharing_group.get("SharingGroupOrg") or []
    orgs = [e.get("Organisation") or e.get("Org") or {} for e in entries if isinstance(e, Mapping)]
    owner = sharing_group.get("Organisation")
    if isinstance(owner, Mapping):
        orgs.append(owner)
    for org in orgs:
        party = directory.resolve_org(org) if isinstance(org, Mapping) else None
        if party is not None:
            found.add(party)
    return frozenset(found)


def distribution_of(element: Mapping[str, Any]) -> int | None:
    """An element's distribution level (None when absent or unreadable)."""
    value = element.get("distribution")
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def tag_names(element: Mapping[str, Any]) -> list[str]:
    """The names of an element's tags (``Tag`` list of dicts or strings)."""
    out = []
    for tag in element.get("Tag") or ():
        name = tag.get("name") if isinstance(tag, Mapping) else tag
        if isinstance(name, str):
            out.append(name)
    return out


def spec_for(
    element: Mapping[str, Any],
    directory: Directory,
    *,
    event: bool,
    event_sharing_group: Mapping[str, Any] | None = None,
    extra_tags: Iterable[str] = (),
) -> Spec:
    """The handling one event, attribute or object demands.

    For the event itself a missing distribution counts as "your organisation only" and a missing
    TLP tag as the node's default; an attribute or object adds only what it says itself.
    """
    spec = read_tags([*tag_names(element), *extra_tags], directory)
    level = distribution_of(element)
    if level is None:
        level = 0 if event else 5
    row = DISTRIBUTIONS.get(level)
    if row is None:
        spec.unreadable.append(f"distribution={element.get('distribution')!r}")
        row = _UNREADABLE
    sharing_group = element.get("SharingGroup")
    if not isinstance(sharing_group, Mapping):
        same = str(element.get("sharing_group_id") or "0")
        sharing_group = (
            event_sharing_group
            if event_sharing_group and same == str(event_sharing_group.get("id", same))
            else None
        )
    _apply_distribution(spec, row, directory, sharing_group)
    if event and not spec.has_tlp:
        if directory.default_tlp == "clear":
            raise ValueError("the default TLP for MISP events may not be clear")
        spec.tlp = stricter_tlp(spec.tlp, directory.default_tlp)
    return spec


def markings_for(spec: Spec, home: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The marking refs a spec puts on objects, and the marking-definitions they need."""
    refs: list[str] = []
    definitions: list[dict[str, Any]] = []
    if spec.tlp is not None:
        refs.append(TLP_MARKING_ID[spec.tlp])
    if spec.release_rule is not None or spec.recipients is not None:
        listed = sorted(spec.recipients) if spec.recipients is not None else None
        name = f"MISP distribution: {spec.distribution or 'restricted'}"
        content = {"rule": spec.release_rule, "recipients": listed, "by": home, "name": name}
        definitions.append(
            handling_marking(
                content_id("release", content),
                MARKING_CREATED,
                home,
                release_rule=spec.release_rule,
                recipients=spec.recipients,
                name=name,
            )
        )
    for cls in sorted(spec.classifications):
        mid = content_id("classification", {"scheme": cls.scheme, "level": cls.level, "by": home})
        definitions.append(
            handling_marking(
                mid, MARKING_CREATED, home, classification=cls, name=f"{cls.scheme} {cls.level}"
            )
        )
    if spec.pap is not None:
        definitions.append(pap_marking(spec.pap))
    if spec.iep:
        ext: dict[str, Any] = {"extension_type": "property-extension", **spec.iep}
        definitions.append(
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": content_id("iep", ext),
                "created": MARKING_CREATED,
                "name": "IEP",
                "extensions": {IEP_EXTENSION: ext},
            }
        )
    for text in sorted(spec.statements):
        definitions.append(
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": content_id("statement", {"statement": text}),
                "created": MARKING_CREATED,
                "definition_type": "statement",
                "definition": {"statement": text},
            }
        )
    refs.extend(d["id"] for d in definitions)
    return refs, definitions


# ---- the reverse: handling → MISP tags and distribution, for MISP export ----

_CLASSIFICATION_TAG: dict[Classification, str] = {
    row.classification: row.tag for row in TAG_TABLE if row.classification is not None
}
_IEP_TAG: dict[str, str] = {
    prop: pred for (ns, pred), prop in IEP_FIELDS.items() if ns == "iep2-policy"
}


def tags_for(
    tlp: str | None,
    pap: str | None,
    classification: Classification | None,
    release_rule: str | None,
    iep: Iterable[tuple[str, str]] = (),
    unresolved: bool = False,
) -> list[str]:
    """The MISP tags that carry a handling into a partner's MISP."""
    tags: list[str] = []
    if tlp is not None:
        tags.append(f"tlp:{tlp}")
    if pap is not None:
        tags.append(f"PAP:{pap.upper()}")
    if classification is not None:
        tags.append(
            _CLASSIFICATION_TAG.get(classification)
            or f'kizuna:classification="{classification.scheme} {classification.level}"'
        )
    if release_rule is not None:
        tags.append(f'kizuna:release-rule="{release_rule}"')
    for prop, value in iep:
        pred = _IEP_TAG.get(prop)
        if pred is not None and prop != "tlp":
            tags.append(f'iep2-policy:{pred}="{value}"')
    if unresolved:
        tags.append('kizuna:handling="unresolved"')
    return tags


def distribution_for(tlp: str | None, restricted: bool) -> int:
    """The MISP distribution a partner's MISP should give what it received (never wider)."""
    if restricted or tlp in (None, "amber+strict", "red"):
        return 0
    return 3 if tlp == "clear" else 1


# ---- the table as documentation ----


def markdown_tables() -> str:
    """The mapping as Markdown tables (docs/misp-mapping.md embeds exactly this)."""
    lines = ["### Taxonomy tags", "", "| MISP tag | kizuna handling |", "|---|---|"]
    for row in TAG_TABLE:
        parts = []
        if row.tlp:
            parts.append(f"TLP:{row.tlp.upper()}")
        if row.pap:
            parts.append(f"PAP:{row.pap.upper()}")
        if row.classification:
            parts.append(f"classification {row.classification.scheme} `{row.classification.level}`")
        if row.release_rule:
            parts.append(f"release rule `{row.release_rule}`")
        if row.statement:
            parts.append(f"statement marking “{row.statement}”")
        if row.home_only:
            parts.append("recipients: home party only, `no-onward` (fail closed)")
        lines.append(f"| `{row.tag}` | {'; '.join(parts)} |")
    lines.append(
        '| `de-vs:Schutzwort="…"` | statement marking “Schutzwort: …”; recipients: home party'
        " only, `no-onward` |"
    )
    lines.append(
        "| any other `tlp:`, `PAP:`, `de-vs:`, `euci:`, `nato:` tag | recipients: home party"
        " only, `no-onward`, TLP:AMBER+STRICT ceiling (fail closed); kept as a label |"
    )
    lines.append("| any tag outside these namespaces | kept as a label (misp-stix) |")
    lines += [
        "",
        "### Distribution",
        "",
        "| level | MISP | TLP ceiling | release rule | recipients | why |",
        "|---|---|---|---|---|---|",
    ]
    for d in DISTRIBUTIONS.values():
        ceiling = f"TLP:{d.tlp_ceiling.upper()}" if d.tlp_ceiling else "—"
        rule = f"`{d.release_rule}`" if d.release_rule else "—"
        lines.append(
            f"| {d.level} | {d.name} | {ceiling} | {rule} | {d.recipients or '—'} | {d.why} |"
        )
    lines += ["", "### IEP taxonomies", "", "| MISP tag | IEP 2.0 marking property |", "|---|---|"]
    for (ns, pred), prop in IEP_FIELDS.items():
        lines.append(f'| `{ns}:{pred}="…"` | `{prop}` |')
    return "\n".join(lines) + "\n"
