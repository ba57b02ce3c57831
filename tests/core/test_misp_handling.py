"""The MISP tag/distribution → handling table: its rules, and that the docs show exactly it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kizuna.core import misp_handling as mh
from kizuna.core.handling import TLP_RANK, Classification, Handling
from kizuna.core.markings import WELL_KNOWN_TLP, handling_of
from shared_data import require_shared_data

HOME = "identity--00000000-0000-4000-8000-000000000001"
BSI = "identity--00000000-0000-4000-8000-000000000002"
CLIENT = "identity--00000000-0000-4000-8000-000000000003"
DIRS = mh.Directory(
    home=HOME,
    clients=frozenset({CLIENT}),
    by_uuid={BSI.split("--")[1]: BSI},
    by_name={"bsi": BSI},
    default_tlp="amber",
)
DOC = Path(__file__).resolve().parents[2] / "docs" / "misp-mapping.md"
BEGIN, END = (
    "<!-- BEGIN GENERATED: kizuna.core.misp_handling.markdown_tables -->",
    "<!-- END GENERATED -->",
)


def handling(spec: mh.Spec) -> Handling:
    """What the gate would read from the markings a spec makes."""
    refs, definitions = mh.markings_for(spec, HOME)
    by_id = {d["id"]: d for d in definitions}
    return handling_of({"object_marking_refs": refs}, by_id.get)


def event(distribution: int | None, *tags: str, **extra: object) -> dict[str, object]:
    ev: dict[str, object] = {"uuid": "e", "info": "x", "Tag": [{"name": t} for t in tags], **extra}
    if distribution is not None:
        ev["distribution"] = str(distribution)
    return ev


def test_the_docs_show_the_table_the_code_uses() -> None:
    text = DOC.read_text(encoding="utf-8")
    generated = mh.markdown_tables()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    if os.environ.get("KIZUNA_REGENERATE_DOCS"):
        DOC.write_text(text[:start] + "\n" + generated + text[end:], encoding="utf-8")
        text = DOC.read_text(encoding="utf-8")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    assert text[start:end].strip() == generated.strip(), (
        "docs/misp-mapping.md differs from the table in code; "
        "run KIZUNA_REGENERATE_DOCS=1 pytest tests/core/test_misp_handling.py"
    )


@pytest.mark.parametrize(
    ("namespace", "values"),
    [
        ("tlp", None),
        ("PAP", None),
        ("de-vs", "Einstufung"),
        ("euci", None),
        ("nato", "classification"),
    ],
    ids=["tlp", "PAP", "de-vs", "euci", "nato"],
)
def test_every_taxonomy_value_has_a_row(namespace: str, values: str | None) -> None:
    """Each value of the MISP taxonomies kizuna reads is in the table (none falls to a label)."""
    folder = require_shared_data("misp", "misp-taxonomies", namespace)
    taxonomy = json.loads((folder / "machinetag.json").read_text(encoding="utf-8"))
    tags = []
    if values is None:
        tags = [f"{taxonomy['namespace']}:{p['value']}" for p in taxonomy["predicates"]]
    else:
        for v in taxonomy["values"]:
            if v["predicate"] == values:
                tags += [f'{taxonomy["namespace"]}:{values}="{e["value"]}"' for e in v["entry"]]
    table = {row.tag for row in mh.TAG_TABLE}
    assert sorted(set(tags) - table) == []


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4], ids=lambda n: f"distribution-{n}")
def test_distribution_never_widens(level: int) -> None:
    """Each level gives exactly its row's restrictions; nothing is wider than what MISP allowed."""
    members = [BSI.split("--")[1], "ffffffff-0000-4000-8000-000000000000"]
    sharing_group = {"id": "7", "SharingGroupOrg": [{"Organisation": {"uuid": u}} for u in members]}
    h = handling(mh.spec_for(event(level, SharingGroup=sharing_group), DIRS, event=True))
    expected_recipients = {
        0: {HOME},
        1: {HOME, CLIENT},
        2: None,
        3: None,
        4: {HOME, BSI},
    }[level]
    assert h.recipients == (None if expected_recipients is None else frozenset(expected_recipients))
    assert h.release_rule == (None if level == 3 else "no-onward")
    assert h.tlp is not None and h.tlp != "clear"
    row = mh.DISTRIBUTIONS[level]
    if row.tlp_ceiling is not None:
        assert TLP_RANK[h.tlp] >= TLP_RANK[row.tlp_ceiling]
    # An explicit TLP:CLEAR tag never loosens the distribution's ceiling.
    loud = handling(
        mh.spec_for(event(level, "tlp:clear", SharingGroup=sharing_group), DIRS, event=True)
    )
    assert TLP_RANK[loud.tlp or "clear"] >= TLP_RANK[row.tlp_ceiling or "clear"]
    assert loud.recipients == h.recipients and loud.release_rule == h.release_rule


def test_an_event_without_a_tlp_tag_gets_the_default_never_clear() -> None:
    assert handling(mh.spec_for(event(3), DIRS, event=True)).tlp == "amber"
    assert handling(mh.spec_for(event(3, "tlp:white"), DIRS, event=True)).tlp == "clear"
    strict = mh.Directory(home=HOME, default_tlp="amber+strict")
    assert handling(mh.spec_for(event(3), strict, event=True)).tlp == "amber+strict"
    with pytest.raises(ValueError, match="clear"):
        mh.spec_for(event(3), mh.Directory(home=HOME, default_tlp="clear"), event=True)


def test_a_missing_distribution_is_own_organisation() -> None:
    h = handling(mh.spec_for(event(None), DIRS, event=True))
    assert h.recipients == frozenset({HOME}) and h.release_rule == "no-onward"


def test_an_unresolvable_sharing_group_keeps_it_home() -> None:
    h = handling(mh.spec_for(event(4), DIRS, event=True))
    assert h.recipients == frozenset({HOME})
    named = {"SharingGroupOrg": [{"Organisation": {"uuid": "x", "name": "BSI"}}]}
    h = handling(mh.spec_for(event(4, SharingGroup=named), DIRS, event=True))
    assert h.recipients == frozenset({HOME, BSI})


CLASSIFICATIONS = [
    ('de-vs:Einstufung="VS-NfD"', Classification("DE", "VS-NUR FÜR DEN DIENSTGEBRAUCH")),
    ('de-vs:Einstufung="VS-VERTRAULICH"', Classification("DE", "VS-VERTRAULICH")),
    ('de-vs:Einstufung="GEHEIM"', Classification("DE", "GEHEIM")),
    ('de-vs:Einstufung="STRENG GEHEIM"', Classification("DE", "STRENG GEHEIM")),
    ("euci:R-UE/EU-R", Classification("EU", "RESTREINT UE/EU RESTRICTED")),
    ("euci:C-UE/EU-C", Classification("EU", "CONFIDENTIEL UE/EU CONFIDENTIAL")),
    ("euci:S-UE/EU-S", Classification("EU", "SECRET UE/EU SECRET")),
    ("euci:TS-UE/EU-TS", Classification("EU", "TRES SECRET UE/EU TOP SECRET")),
    ('nato:classification="NR"', Classification("NATO", "NATO RESTRICTED")),
    ('nato:classification="NC"', Classification("NATO", "NATO CONFIDENTIAL")),
    ('nato:classification="NS"', Classification("NATO", "NATO SECRET")),
    ('nato:classification="CTS"', Classification("NATO", "COSMIC TOP SECRET")),
    ('nato:classification="NS-A"', Classification("NATO", "SECRET ATOMAL")),
]


@pytest.mark.parametrize(("tag", "expected"), CLASSIFICATIONS, ids=[t for t, _ in CLASSIFICATIONS])
def test_classification_tags_become_classification_markings(
    tag: str, expected: Classification
) -> None:
    spec = mh.spec_for(event(3, tag), DIRS, event=True)
    h = handling(spec)
    assert h.classification == expected
    assert tag in spec.consumed and not h.unresolved


def test_two_different_classifications_fail_closed() -> None:
    h = handling(
        mh.spec_for(event(3, 'de-vs:Einstufung="GEHEIM"', "euci:R-UE/EU-R"), DIRS, event=True)
    )
    assert h.unresolved  # the gate withholds what it cannot read


@pytest.mark.parametrize(
    "tag", ["tlp:unclear", "tlp:purple", 'de-vs:Einstufung="GEHEIMER"', "euci:X", "PAP:BLUE"]
)
def test_an_unreadable_handling_tag_keeps_the_event_home(tag: str) -> None:
    spec = mh.spec_for(event(3, tag), DIRS, event=True)
    h = handling(spec)
    assert h.recipients == frozenset({HOME}) and h.release_rule == "no-onward"
    assert tag in spec.unreadable and tag not in spec.consumed  # stays a label


def test_pap_iep_and_statements() -> None:
    tags = [
        "PAP:AMBER",
        "tlp:ex:chr",
        'iep2-policy:tlp="red"',
        'iep2-policy:permitted_actions="none"',
        'iep:commercial-use="MUST NOT"',
        'osint:source-type="blog-post"',
    ]
    spec = mh.spec_for(event(3, *tags), DIRS, event=True)
    h = handling(spec)
    assert h.pap == "amber"
    assert h.tlp == "red"  # the IEP policy's TLP counts; the default does not loosen it
    assert ("permitted_actions", "none") in h.iep and ("commercial_use", "must-not") in h.iep
    assert any("Chatham House" in s for s in h.statements)
    assert 'osint:source-type="blog-post"' not in spec.consumed  # an unknown tag stays a label


def test_marking_ids_are_deterministic_and_tlp_is_well_known() -> None:
    spec = mh.spec_for(event(0, "PAP:RED", "euci:R-UE/EU-R"), DIRS, event=True)
    refs1, defs1 = mh.markings_for(spec, HOME)
    refs2, defs2 = mh.markings_for(
        mh.spec_for(event(0, "PAP:RED", "euci:R-UE/EU-R"), DIRS, event=True), HOME
    )
    assert refs1 == refs2 and defs1 == defs2
    assert any(r in WELL_KNOWN_TLP for r in refs1)


@pytest.mark.parametrize(
    ("tlp", "restricted", "expected"),
    [("clear", False, 3), ("green", False, 1), ("amber", False, 1), ("amber+strict", False, 0),
     ("red", False, 0), ("clear", True, 0), (None, False, 0)],
)  # fmt: skip
def test_export_distribution_is_never_wider(
    tlp: str | None, restricted: bool, expected: int
) -> None:
    assert mh.distribution_for(tlp, restricted) == expected


def test_export_tags_read_back_as_the_same_handling() -> None:
    for row in mh.TAG_TABLE:
        if row.classification is None and row.pap is None:
            continue
        tags = mh.tags_for(None, row.pap, row.classification, None)
        back = handling(mh.read_tags(tags, DIRS))
        assert back.classification == row.classification and back.pap == row.pap
