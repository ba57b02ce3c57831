"""Observations that patterns are matched against: STIX 2.1 ``observed-data`` (§4.14)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.core.patterns.literals import parse_timestamp_us
from kizuna.errors import InvalidStix

JsonObject = dict[str, Any]

# Object types that are not Cyber-observable Objects: stix2-matcher never selects them by type
# (stix2matcher.enums.TYPES_V21, the STIX 2.1 SDOs, SROs and meta objects).
NON_OBSERVABLE_TYPES = frozenset(
    {
        "attack-pattern",
        "bundle",
        "campaign",
        "course-of-action",
        "extension-definition",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "language-content",
        "location",
        "malware",
        "malware-analysis",
        "marking-definition",
        "note",
        "observed-data",
        "opinion",
        "relationship",
        "report",
        "threat-actor",
        "tool",
        "sighting",
        "vulnerability",
    }
)


@dataclass(frozen=True, slots=True)
class Observation:
    """One ``observed-data``: its time span, its count, and the objects it refers to by id.

    ``objects`` maps ids to parsed JSON objects (dicts); ``*_ref`` properties resolve within it.
    """

    first_observed_us: int
    last_observed_us: int
    number_observed: int
    objects: Mapping[str, JsonObject]

    def __post_init__(self) -> None:
        if self.number_observed < 1:
            raise InvalidStix(f"number_observed must be at least 1, not {self.number_observed}")
        if self.last_observed_us < self.first_observed_us:
            raise InvalidStix("last_observed must not be earlier than first_observed")


def _timestamp(observed_data: Mapping[str, Any], name: str) -> int:
    """A required timestamp property of an observed-data object, in microseconds."""
    value = observed_data.get(name)
    if not isinstance(value, str):
        raise InvalidStix(f"observed-data {observed_data.get('id')} needs a {name} timestamp")
    try:
        return parse_timestamp_us(value)
    except ValueError as exc:
        raise InvalidStix(f"observed-data {name} is not a STIX timestamp: {value!r}") from exc


def observation_from_stix(
    observed_data: Mapping[str, Any], objects_by_id: Mapping[str, JsonObject]
) -> Observation:
    """The observation an ``observed-data`` object makes, resolving its ``object_refs``."""
    refs = observed_data.get("object_refs")
    if not isinstance(refs, list):
        raise InvalidStix(f"observed-data {observed_data.get('id')} needs object_refs")
    count = observed_data.get("number_observed")
    if not isinstance(count, int) or isinstance(count, bool):
        raise InvalidStix(f"observed-data {observed_data.get('id')} needs number_observed")
    # stix2-matcher also lists the observed-data itself among the objects refs resolve in.
    objects: dict[str, JsonObject] = {str(observed_data.get("id")): dict(observed_data)}
    for ref in refs:
        if isinstance(ref, str) and ref in objects_by_id:
            objects[ref] = objects_by_id[ref]
    return Observation(
        _timestamp(observed_data, "first_observed"),
        _timestamp(observed_data, "last_observed"),
        count,
        objects,
    )


def observations_from_stix(objects: Iterable[Mapping[str, Any]]) -> list[Observation]:
    """Every observation in a list of STIX objects (observed-data and the objects they refer to).

    This is stix2-matcher's 2.1 input model: the objects of all bundles, read together.
    """
    observed: list[Mapping[str, Any]] = []
    by_id: dict[str, JsonObject] = {}
    for obj in objects:
        if obj.get("type") == "observed-data":
            observed.append(obj)
        elif isinstance(obj.get("id"), str):
            by_id[obj["id"]] = dict(obj)
    return [observation_from_stix(item, by_id) for item in observed]
