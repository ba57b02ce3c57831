"""Parties: the member organisations of the federation, as plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass

TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

KINDS: tuple[str, ...] = ("government", "csirt", "private", "international")

_JURISDICTION = re.compile(r"^(?:[A-Z]{2}|EU)$")
_SCHEME = re.compile(r"^[A-Z][A-Z0-9-]{1,15}$")


@dataclass(frozen=True)
class Party:
    """A member organisation; its id is a STIX ``identity`` id."""

    id: str
    name: str
    jurisdiction: str
    kind: str
    scheme: str | None = None
    sector: str | None = None
    public_keys: tuple[str, ...] = ()
    is_home: bool = False
    is_client: bool = False


def check_jurisdiction(value: str) -> str:
    """An ISO 3166 alpha-2 code or ``EU``, upper-cased; ValueError otherwise."""
    value = value.strip().upper()
    if not _JURISDICTION.match(value):
        raise ValueError(f"jurisdiction {value!r} is not an ISO 3166 alpha-2 code or EU")
    return value


def check_kind(value: str) -> str:
    """One of the party kinds; ValueError otherwise."""
    value = value.strip().lower()
    if value not in KINDS:
        raise ValueError(f"kind {value!r} is not one of {', '.join(KINDS)}")
    return value


def check_scheme(value: str) -> str:
    """A classification scheme name such as EU, NATO, DE, JP."""
    value = value.strip().upper()
    if not _SCHEME.match(value):
        raise ValueError(f"classification scheme {value!r} is not a short upper-case name")
    return value


def identity_object(party: Party, created: str) -> dict[str, object]:
    """The STIX identity object that stands for a party."""
    identity_class = "organization"
    obj: dict[str, object] = {
        "type": "identity",
        "spec_version": "2.1",
        "id": party.id,
        "created": created,
        "modified": created,
        "name": party.name,
        "identity_class": identity_class,
        # A party's identity is public within the federation (rule 3).
        "object_marking_refs": [TLP_CLEAR],
    }
    if party.sector:
        obj["sectors"] = [party.sector]
    return obj
