"""The STIX 2.1 object types kizuna knows, with the per-type rules the validator reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "META_TYPES",
    "OBJECT_TYPES",
    "SCO_TYPES",
    "SDO_TYPES",
    "SRO_TYPES",
    "TLP_1_CREATED",
    "TLP_1_MARKINGS",
    "Category",
    "ObjectType",
]


class Category(StrEnum):
    """The four kinds of top-level STIX 2.1 object (SDOs §4, SROs §5, SCOs §6, meta objects §7)."""

    SDO = "sdo"
    SRO = "sro"
    SCO = "sco"
    META = "meta"


@dataclass(frozen=True, slots=True)
class ObjectType:
    """One object type: its category, spec section, required properties and value rules."""

    name: str
    category: Category
    section: str
    # Every REQUIRED property, the common ones included, in the order they are reported.
    required: tuple[str, ...]
    # Timestamp-valued properties besides created/modified.
    timestamps: tuple[str, ...] = ()
    # (later, earlier, strict): ``later`` must be > (strict) or >= ``earlier`` when both are set.
    order: tuple[tuple[str, str, bool], ...] = ()
    # Groups of which at least one property must be present (e.g. file: hashes or name).
    any_of: tuple[tuple[str, ...], ...] = ()
    # Integer-valued properties with their inclusive range.
    int_ranges: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # Reference properties whose target types are fixed by the spec.
    ref_types: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # SCOs only: the ID contributing properties of §6 for the deterministic UUIDv5 of §2.9.
    id_contributing: tuple[str, ...] = ()


# §3.2 common properties: required on every SDO and SRO (and language-content, §7.1;
# extension-definition, §7.3). marking-definition is not versioned: created only (§7.2.1).
_VERSIONED = ("type", "spec_version", "id", "created", "modified")
_SCO_COMMON = ("type", "id")  # §6: spec_version is optional on SCOs

_SEEN = (("last_seen", "first_seen", False),)
_SOFTWARE = frozenset({"software"})
_ADDRESSES = frozenset({"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"})
_EMAIL_ADDR = frozenset({"email-addr"})
_ARTIFACT = frozenset({"artifact"})
_USER = frozenset({"user-account"})
_TRAFFIC = frozenset({"network-traffic"})
_PROCESS = frozenset({"process"})


def _sdo(name: str, section: str, *required: str, seen: bool = False, **rules: Any) -> ObjectType:
    if seen:  # first_seen/last_seen with last_seen >= first_seen (§4.2, §4.8, §4.9, §4.11, §4.17)
        rules.setdefault("timestamps", ("first_seen", "last_seen"))
        rules.setdefault("order", _SEEN)
    return ObjectType(name, Category.SDO, section, _VERSIONED + required, **rules)


def _sco(name: str, section: str, *required: str, **rules: Any) -> ObjectType:
    return ObjectType(name, Category.SCO, section, _SCO_COMMON + required, **rules)


_ALL: tuple[ObjectType, ...] = (
    # §4 STIX Domain Objects.
    _sdo("attack-pattern", "4.1", "name"),
    _sdo("campaign", "4.2", "name", seen=True),
    _sdo("course-of-action", "4.3", "name"),
    _sdo("grouping", "4.4", "context", "object_refs"),
    _sdo("identity", "4.5", "name"),
    _sdo("incident", "4.6", "name"),
    _sdo(
        "indicator",
        "4.7",
        "pattern",
        "pattern_type",
        "valid_from",
        timestamps=("valid_from", "valid_until"),
        order=(("valid_until", "valid_from", True),),
    ),
    _sdo("infrastructure", "4.8", "name", seen=True),
    _sdo("intrusion-set", "4.9", "name", seen=True),
    # §4.10: one of region, country or latitude+longitude; checked in validate.
    _sdo("location", "4.10"),
    _sdo(
        "malware",
        "4.11",
        "is_family",
        seen=True,
        ref_types={
            "operating_system_refs": _SOFTWARE,
            "sample_refs": frozenset({"artifact", "file"}),
        },
    ),
    _sdo(
        "malware-analysis",
        "4.12",
        "product",
        timestamps=("submitted", "analysis_started", "analysis_ended"),
        any_of=(("result", "analysis_sco_refs"),),
        ref_types={
            "host_vm_ref": _SOFTWARE,
            "operating_system_ref": _SOFTWARE,
            "installed_software_refs": _SOFTWARE,
            "sample_ref": frozenset({"artifact", "file", "network-traffic"}),
        },
    ),
    _sdo("note", "4.13", "content", "object_refs"),
    _sdo(
        "observed-data",
        "4.14",
        "first_observed",
        "last_observed",
        "number_observed",
        timestamps=("first_observed", "last_observed"),
        order=(("last_observed", "first_observed", False),),
        any_of=(("object_refs", "objects"),),
        int_ranges={"number_observed": (1, 999_999_999)},
    ),
    _sdo("opinion", "4.15", "opinion", "object_refs"),
    _sdo("report", "4.16", "name", "published", "object_refs", timestamps=("published",)),
    _sdo("threat-actor", "4.17", "name", seen=True),
    _sdo("tool", "4.18", "name"),
    _sdo("vulnerability", "4.19", "name"),
    # §5 STIX Relationship Objects.
    ObjectType(
        "relationship",
        Category.SRO,
        "5.1",
        (*_VERSIONED, "relationship_type", "source_ref", "target_ref"),
        timestamps=("start_time", "stop_time"),
        order=(("stop_time", "start_time", True),),
    ),
    ObjectType(
        "sighting",
        Category.SRO,
        "5.2",
        (*_VERSIONED, "sighting_of_ref"),
        timestamps=("first_seen", "last_seen"),
        order=_SEEN,
        int_ranges={"count": (0, 999_999_999)},
        ref_types={
            "observed_data_refs": frozenset({"observed-data"}),
            "where_sighted_refs": frozenset({"identity", "location"}),
        },
    ),
    # §6 STIX Cyber-observable Objects.
    _sco(
        "artifact",
        "6.1",
        id_contributing=("hashes", "payload_bin"),
        any_of=(("payload_bin", "url"),),
    ),
    _sco("autonomous-system", "6.2", "number", id_contributing=("number",)),
    _sco(
        "directory",
        "6.3",
        "path",
        timestamps=("ctime", "mtime", "atime"),
        id_contributing=("path",),
        ref_types={"contains_refs": frozenset({"file", "directory"})},
    ),
    _sco(
        "domain-name",
        "6.4",
        "value",
        id_contributing=("value",),
        ref_types={"resolves_to_refs": frozenset({"ipv4-addr", "ipv6-addr", "domain-name"})},
    ),
    _sco(
        "email-addr",
        "6.5",
        "value",
        id_contributing=("value",),
        ref_types={"belongs_to_ref": _USER},
    ),
    _sco(
        "email-message",
        "6.6",
        "is_multipart",
        timestamps=("date",),
        id_contributing=("from_ref", "subject", "body"),
        ref_types={
            "from_ref": _EMAIL_ADDR,
            "sender_ref": _EMAIL_ADDR,
            "to_refs": _EMAIL_ADDR,
            "cc_refs": _EMAIL_ADDR,
            "bcc_refs": _EMAIL_ADDR,
            "raw_email_ref": _ARTIFACT,
        },
    ),
    _sco(
        "file",
        "6.7",
        timestamps=("ctime", "mtime", "atime"),
        any_of=(("hashes", "name"),),
        id_contributing=("hashes", "name", "extensions", "parent_directory_ref"),
        ref_types={"parent_directory_ref": frozenset({"directory"}), "content_ref": _ARTIFACT},
    ),
    _sco(
        "ipv4-addr",
        "6.8",
        "value",
        id_contributing=("value",),
        ref_types={
            "resolves_to_refs": frozenset({"mac-addr"}),
            "belongs_to_refs": frozenset({"autonomous-system"}),
        },
    ),
    _sco(
        "ipv6-addr",
        "6.9",
        "value",
        id_contributing=("value",),
        ref_types={
            "resolves_to_refs": frozenset({"mac-addr"}),
            "belongs_to_refs": frozenset({"autonomous-system"}),
        },
    ),
    _sco("mac-addr", "6.10", "value", id_contributing=("value",)),
    _sco("mutex", "6.11", "name", id_contributing=("name",)),
    _sco(
        "network-traffic",
        "6.12",
        "protocols",
        timestamps=("start", "end"),
        order=(("end", "start", False),),
        any_of=(("src_ref", "dst_ref"),),
        id_contributing=(
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ),
        int_ranges={"src_port": (0, 65535), "dst_port": (0, 65535)},
        ref_types={
            "src_ref": _ADDRESSES,
            "dst_ref": _ADDRESSES,
            "src_payload_ref": _ARTIFACT,
            "dst_payload_ref": _ARTIFACT,
            "encapsulates_refs": _TRAFFIC,
            "encapsulated_by_ref": _TRAFFIC,
        },
    ),
    # §6.13: a process has no ID contributing properties, so its id is always a UUIDv4.
    _sco(
        "process",
        "6.13",
        timestamps=("created_time",),
        ref_types={
            "opened_connection_refs": _TRAFFIC,
            "creator_user_ref": _USER,
            "image_ref": frozenset({"file"}),
            "parent_ref": _PROCESS,
            "child_refs": _PROCESS,
        },
    ),
    _sco(
        "software",
        "6.14",
        "name",
        id_contributing=("name", "cpe", "swid", "vendor", "version"),
    ),
    _sco("url", "6.15", "value", id_contributing=("value",)),
    _sco(
        "user-account",
        "6.16",
        timestamps=(
            "account_created",
            "account_expires",
            "credential_last_changed",
            "account_first_login",
            "account_last_login",
        ),
        id_contributing=("account_type", "user_id", "account_login"),
    ),
    _sco(
        "windows-registry-key",
        "6.17",
        timestamps=("modified_time",),
        id_contributing=("key", "values"),
        ref_types={"creator_user_ref": _USER},
    ),
    _sco(
        "x509-certificate",
        "6.18",
        timestamps=("validity_not_before", "validity_not_after"),
        id_contributing=("hashes", "serial_number"),
    ),
    # §7 STIX Meta Objects.
    ObjectType(
        "language-content",
        Category.META,
        "7.1",
        (*_VERSIONED, "object_ref", "contents"),
        timestamps=("object_modified",),
    ),
    # §7.2.1: either definition_type + definition (the deprecated TLP 1.0 / statement style) or
    # an extension (TLP 2.0 and the like); checked in validate.
    ObjectType(
        "marking-definition",
        Category.META,
        "7.2.1",
        ("type", "spec_version", "id", "created"),
    ),
    ObjectType(
        "extension-definition",
        Category.META,
        "7.3",
        (*_VERSIONED, "created_by_ref", "name", "schema", "version", "extension_types"),
    ),
)

OBJECT_TYPES: Mapping[str, ObjectType] = MappingProxyType({t.name: t for t in _ALL})
SDO_TYPES = frozenset(t.name for t in _ALL if t.category is Category.SDO)
SRO_TYPES = frozenset(t.name for t in _ALL if t.category is Category.SRO)
SCO_TYPES = frozenset(t.name for t in _ALL if t.category is Category.SCO)
META_TYPES = frozenset(t.name for t in _ALL if t.category is Category.META)

# §7.2.1: the only four TLP 1.0 marking definitions there may be, by id, with their colour.
TLP_1_MARKINGS: Mapping[str, str] = MappingProxyType(
    {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
    }
)
TLP_1_CREATED = "2017-01-20T00:00:00.000Z"
