"""Well-known marking-definitions: fixed by the node, never redefined by anyone who posts one.

TLP 2.0 and 1.0, the OASIS PAP and statement definitions, and kizuna's own PAP definitions
(REFERENCE.md, DESIGN.md "Who may change the gate's inputs"). The node reads them by id from the
copies below; a posted object with one of these ids is accepted only when it says the same as
the node's copy. The TLP, PAP and IEP extension-definitions are fixed by their standards: the
node takes no copy of them from anyone.

Some definitions need no fixed copy because their id is derived from their content (kizuna's
MISP mapping makes its IEP and statement markings so): any copy of one means the same.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from kizuna.core.markings import IEP_EXTENSION, PAP_EXTENSION, TLP_EXTENSION
from kizuna.core.stix.timestamps import parse_timestamp

# Namespace of the UUIDv5 ids of the marking-definitions kizuna makes (same content, same id).
NAMESPACE = uuid.UUID("0f5d8d5e-5b0c-4d7e-9a51-7d6c3c1c2b11")
# kizuna's own definitions carry this ``created``: same content, same bytes on every node.
MARKING_CREATED = "2026-01-01T00:00:00.000Z"


def kizuna_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


def content_id(prefix: str, content: Mapping[str, Any]) -> str:
    """The id kizuna gives a marking-definition made from ``content`` (UUIDv5 of it)."""
    canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode()
    return f"marking-definition--{kizuna_uuid(prefix, canonical)}"


def pap_marking(level: str) -> dict[str, Any]:
    """kizuna's PAP marking-definition for a level (one per level, the same on every node)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{kizuna_uuid('pap', level)}",
        "created": MARKING_CREATED,
        "name": f"PAP:{level.upper()}",
        "extensions": {PAP_EXTENSION: {"extension_type": "property-extension", "pap": level}},
    }


def _tlp2(mid: str, label: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{mid}",
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{label.upper()}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": label}},
    }


def _tlp1(mid: str, label: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{mid}",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{label.upper()}",
        "definition": {"tlp": label},
    }


def _oasis_pap(mid: str, created: str, label: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{mid}",
        "created": created,
        "name": f"PAP:{label.upper()}",
        "extensions": {PAP_EXTENSION: {"extension_type": "property-extension", "pap": label}},
    }


def _statement(mid: str, created: str, text: str, **more: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{mid}",
        "created": created,
        **more,
        "definition_type": "statement",
        "definition": {"statement": text},
    }


_COPIES = [
    # TLP 2.0 (OASIS cti-stix-common-objects, REFERENCE.md)
    _tlp2("94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
    _tlp2("bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
    _tlp2("55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
    _tlp2("939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
    _tlp2("e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
    # TLP 1.0 (STIX 2.1 §7.2.1.4)
    _tlp1("613f2e26-407d-48c7-9eca-b8e91df99dc9", "white"),
    _tlp1("34098fce-860f-48ae-8e50-ebd3cc5e41da", "green"),
    _tlp1("f88d31f6-486f-44da-b317-01333bde0b82", "amber"),
    _tlp1("5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red"),
    # PAP (OASIS PAP marking-definition specification: "the only instances permitted")
    _oasis_pap("a3bea94c-b469-41dc-9cfe-d6e7daba7730", "2022-10-01T00:00:00.000Z", "white"),
    _oasis_pap("ad15a0cd-55b6-4588-a14c-a66105329b92", "2022-10-01T00:00:00.000Z", "clear"),
    _oasis_pap("c43594d1-4b11-4c59-93ab-1c9b14d53ce9", "2022-10-09T00:00:00.000Z", "green"),
    # Statements of OASIS cti-stix-common-objects
    _statement(
        "3cd55916-d34b-4747-a8e0-dedec14b711b",
        "2020-12-22T00:00:00.000000Z",
        "Copyright 2020-22 - The MITRE Corporation, Inc.",
    ),
    _statement(
        "62fd3f9b-15f3-4ebc-802c-91fce9536bcf",
        "2021-03-13T20:09:20.886268Z",
        "This content is subject to open source license terms expressed in the BSD-3-Clause "
        "License. For more information, please see https://github.com/oasis-open/cti-stix-common-objects",
        modified="2021-12-01T16:19:51.601791Z",
    ),
    # kizuna's own PAP definitions (core.misp_handling maps PAP tags to them)
    *(pap_marking(level) for level in ("clear", "green", "amber", "red")),
]
FIXED: dict[str, dict[str, Any]] = {d["id"]: d for d in _COPIES}
# Fixed by their standards; the node holds no copy and takes none.
STANDARD_EXTENSIONS: dict[str, str] = {
    TLP_EXTENSION: "the TLP 2.0 extension-definition",
    PAP_EXTENSION: "the PAP extension-definition",
    IEP_EXTENSION: "the IEP 2.0 extension-definition",
}


def describe(definition: Mapping[str, Any]) -> str:
    """A short name for a fixed definition: its ``name``, or its statement."""
    name = definition.get("name")
    if isinstance(name, str):
        return name
    return f"the statement {str(definition.get('definition', {}).get('statement', ''))[:40]!r}"


def same(posted: Mapping[str, Any], fixed: Mapping[str, Any]) -> bool:
    """True when a posted copy says exactly what the fixed one says (timestamps as instants)."""
    return _normal(posted) == _normal(fixed)


def _normal(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    for key in ("created", "modified"):
        value = out.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                out[key] = parse_timestamp(value)
    return out


def self_certifying(md: Mapping[str, Any]) -> bool:
    """A definition whose id kizuna derives from its content, carrying nothing else that
    marks: whoever posts it, it can only say what its id says."""
    mid = md.get("id")
    extensions = md.get("extensions")
    if md.get("definition_type") == "statement" and not extensions:
        definition = md.get("definition")
        text = definition.get("statement") if isinstance(definition, Mapping) else None
        return isinstance(text, str) and mid == content_id("statement", {"statement": text})
    if "definition_type" in md or not isinstance(extensions, Mapping):
        return False
    if set(extensions) != {IEP_EXTENSION} or not isinstance(extensions[IEP_EXTENSION], Mapping):
        return False
    return bool(mid == content_id("iep", extensions[IEP_EXTENSION]))
