"""Small STIX 2.1 builders and TAXII assertions shared by the HTTP tests."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from stix2validator import ValidationOptions, validate_instance

from kizuna.core.taxii import INBOX, MEDIA_TAXII, RELEASED

API_ROOT = "/taxii2/root/"
INBOX_URL = f"{API_ROOT}collections/{INBOX}/"
RELEASED_URL = f"{API_ROOT}collections/{RELEASED}/"
TAXII_HEADERS = {"Accept": MEDIA_TAXII, "Content-Type": MEDIA_TAXII}

TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

_VALIDATION = ValidationOptions(version="2.1")


def stix_id(stix_type: str, seed: str) -> str:
    """A deterministic STIX id for a test object."""
    return f"{stix_type}--{uuid.uuid5(uuid.NAMESPACE_URL, f'kizuna-http-tests/{seed}')}"


def indicator(
    seed: str,
    *,
    tlp: str | None = "clear",
    created_by: str | None = None,
    modified: str = "2026-01-01T00:00:00.000Z",
    name: str | None = None,
) -> dict[str, Any]:
    """A valid indicator; ``seed`` picks its id, ``modified`` its version."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator", seed),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": name or f"indicator {seed}",
        "pattern": f"[domain-name:value = '{seed}.example.org']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP[tlp]]
    if created_by is not None:
        obj["created_by_ref"] = created_by
    return obj


def envelope(*objects: dict[str, Any]) -> bytes:
    return orjson.dumps({"objects": list(objects)})


def stix_errors(obj: dict[str, Any]) -> list[str]:
    """What the OASIS stix2-validator says is wrong with one object (empty when valid)."""
    result = validate_instance(obj, _VALIDATION)
    return [str(e) for e in result.errors]


def assert_taxii_error(response: Any, status: int) -> dict[str, Any]:
    """The response is a TAXII 2.1 error resource with this status and the TAXII media type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TAXII
    body = orjson.loads(response.content)
    assert isinstance(body, dict)
    assert isinstance(body.get("title"), str) and body["title"]
    assert body.get("http_status") == str(status)
    assert isinstance(body.get("description", ""), str)
    return body


SEAL = "x-kizuna-seal"


def without_seals(items: list[Any]) -> list[Any]:
    """A page's objects (or manifest entries) without the seals that travel with them.

    DESIGN.md "Federation": seals travel with their objects. A seal may only come with the
    object it seals, in the same page.
    """
    ids = {i["id"] for i in items}
    for i in items:
        if i["id"].startswith(SEAL + "--") and "sealed_ref" in i:
            assert i["sealed_ref"] in ids, f"a seal without its object: {i['id']}"
    return [i for i in items if not i["id"].startswith(SEAL + "--")]
