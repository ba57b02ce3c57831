"""The per-type tables, cross-checked against the OASIS stix2 library's object classes."""

from __future__ import annotations

import pytest
from stix2.registry import STIX2_OBJ_MAPS  # type: ignore[import-untyped]

from kizuna.core.stix.object_types import (
    META_TYPES,
    OBJECT_TYPES,
    SCO_TYPES,
    SDO_TYPES,
    SRO_TYPES,
    Category,
)

STIX2_CLASSES = {
    **STIX2_OBJ_MAPS["2.1"]["objects"],
    **STIX2_OBJ_MAPS["2.1"]["observables"],
}
# Required by the spec but given a default by stix2, so not marked required there.
DEFAULTED_BY_STIX2 = {"indicator": {"valid_from"}}
COMMON = {
    Category.SDO: {"type", "spec_version", "id", "created", "modified"},
    Category.SRO: {"type", "spec_version", "id", "created", "modified"},
    Category.META: {"type", "spec_version", "id", "created"},
    Category.SCO: {"type", "id"},
}


def test_every_stix_2_1_type_is_known_once() -> None:
    assert len(SDO_TYPES) == 19
    assert len(SRO_TYPES) == 2
    assert len(SCO_TYPES) == 18
    assert sorted(META_TYPES) == ["extension-definition", "language-content", "marking-definition"]
    assert set(OBJECT_TYPES) == set(STIX2_CLASSES) - {"bundle"}
    sections = [t.section for t in OBJECT_TYPES.values()]
    assert len(sections) == len(set(sections))


@pytest.mark.parametrize("name", sorted(OBJECT_TYPES))
def test_required_properties_match_stix2(name: str) -> None:
    known = OBJECT_TYPES[name]
    cls = STIX2_CLASSES[name]
    theirs = {k for k, prop in cls._properties.items() if getattr(prop, "required", False)}
    ours = set(known.required)
    assert COMMON[known.category] <= ours
    assert ours - COMMON[known.category] - {"modified"} == theirs | DEFAULTED_BY_STIX2.get(
        name, set()
    )
    assert len(known.required) == len(ours)


@pytest.mark.parametrize("name", sorted(SCO_TYPES))
def test_id_contributing_properties_match_stix2(name: str) -> None:
    assert set(OBJECT_TYPES[name].id_contributing) == set(
        STIX2_CLASSES[name]._id_contributing_properties
    )


@pytest.mark.parametrize("name", sorted(OBJECT_TYPES))
def test_rules_name_properties_the_type_has(name: str) -> None:
    known = OBJECT_TYPES[name]
    props = set(STIX2_CLASSES[name]._properties)
    named = {p for pair in known.order for p in pair[:2]}
    named |= {p for group in known.any_of for p in group}
    named |= set(known.timestamps) | set(known.int_ranges) | set(known.ref_types)
    # "objects" is observed-data's deprecated STIX 2.0-style container; stix2 still has it.
    assert named <= props
