"""STIX 2.1 identifiers (§2.9): syntax checks and the deterministic UUIDv5 of SCOs."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from typing import Any, TypeGuard

import rfc8785

from kizuna.core.stix.object_types import OBJECT_TYPES, Category
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "SCO_ID_NAMESPACE",
    "id_error",
    "is_identifier",
    "sco_deterministic_id",
    "type_error",
    "uuid_version",
]

# §2.9: the namespace of every SCO's deterministic UUIDv5.
SCO_ID_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

# §3.1 / §2.9: a type is a-z, 0-9 and single hyphens, starting with a letter (as the OASIS stix2
# library and JSON schemas read it); the UUID is RFC 4122: version 1-5, variant 10xx. Upper-case
# hex is accepted, as RFC 4122 §3 says UUIDs are case-insensitive on input and OASIS's own
# examples carry one.
_TYPE_PATTERN = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_TYPE = re.compile(_TYPE_PATTERN)
_UUID_PATTERN = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)
_ID = re.compile(f"{_TYPE_PATTERN}--{_UUID_PATTERN}")
_ANY_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_UUID_LENGTH = 36
_MIN_TYPE, _MAX_TYPE = 3, 250

# §2.9 and §6: of a hashes dictionary only one hash contributes, the first of these present, else
# the first key; the same choice as the OASIS stix2 library (``_choose_one_hash``).
_HASH_PREFERENCE = ("MD5", "SHA-1", "SHA-256", "SHA-512")
# hashing-algorithm-ov names (§10), keyed by their upper-case form without hyphens.
_HASH_NAMES = {
    name.replace("-", ""): name
    for name in ("MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH")
}
_NAMESPACE_BYTES = SCO_ID_NAMESPACE.bytes

# A bounded memo of identifiers found valid; it only saves time, never changes an answer.
_valid_ids: set[str] = set()
_ID_MEMO_SIZE = 65_536


def type_error(value: object) -> str | None:
    """Say what is wrong with a STIX type name, or None when it is valid (§3.1)."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not _MIN_TYPE <= len(value) <= _MAX_TYPE:
        return f"{value!r} must be 3 to 250 characters long"
    if _TYPE.fullmatch(value) is None:
        return (
            f"{value!r} must be a-z, 0-9 and single hyphens, start with a letter"
            " and not end with a hyphen"
        )
    return None


def is_identifier(value: object) -> TypeGuard[str]:
    """Tell whether ``value`` is a syntactically valid STIX identifier ``type--UUID``."""
    if type(value) is not str:
        return False
    if value in _valid_ids:
        return True
    if _MIN_TYPE <= len(value) - _UUID_LENGTH - 2 <= _MAX_TYPE and _ID.fullmatch(value) is not None:
        # Ids recur (creators, markings, relationship ends): remember some, skip the regex.
        if len(_valid_ids) >= _ID_MEMO_SIZE:
            _valid_ids.clear()
        _valid_ids.add(value)
        return True
    return False


def id_error(value: object, expected_type: str | None = None) -> str | None:
    """Say what is wrong with an identifier (or that it is not of ``expected_type``), else None."""
    if is_identifier(value):
        if expected_type is None or (value[: -_UUID_LENGTH - 2] == expected_type):
            return None
        return f"{value!r} must be the id of an object of type {expected_type}"
    if not isinstance(value, str):
        return f"must be a STIX identifier string, not {type(value).__name__}"
    type_part, sep, uuid_part = value.rpartition("--")
    if not sep or type_error(type_part) is not None:
        return f"{value!r} is not a STIX identifier: expected <type>--<UUID>"
    if _ANY_UUID.fullmatch(uuid_part) is None:
        return f"{value!r} is not a STIX identifier: {uuid_part!r} is not a UUID"
    return (
        f"{value!r} is not a STIX identifier: its UUID is not RFC 4122"
        " (version 1 to 5, variant bits 10)"
    )


def uuid_version(identifier: str) -> int:
    """Return the UUID version digit of a valid identifier."""
    return int(identifier[-22], 16)


def _one_hash(hashes: object) -> object:
    if not isinstance(hashes, Mapping) or not hashes:
        return hashes
    # Names are taken as the stix2 library takes them ("sha256" is SHA-256) so both agree on ids.
    named = {
        _HASH_NAMES.get(key.replace("-", "").upper(), key) if isinstance(key, str) else key: value
        for key, value in hashes.items()
    }
    for name in _HASH_PREFERENCE:
        if name in named:
            return {name: named[name]}
    first = next(iter(named))
    return {first: named[first]}


def _minimal_timestamp(value: object) -> object:
    # A timestamp contributes in its shortest form (fraction without trailing zeros), as the OASIS
    # stix2 library writes it, so "…:00.000Z" and "…:00Z", one instant, give one id.
    if not isinstance(value, str):
        return value
    try:
        full = format_timestamp(parse_timestamp(value))
    except ValueError:
        return value
    return full[:-1].rstrip("0").rstrip(".") + "Z"


def _contributing_value(sco_type: str, name: str, value: object) -> object:
    if name == "hashes":
        return _one_hash(value)
    if sco_type == "network-traffic" and name in ("start", "end"):
        return _minimal_timestamp(value)
    return value


def sco_deterministic_id(obj: Mapping[str, object]) -> str | None:
    """Compute an SCO's deterministic id (§2.9), or None when no ID contributing property is set.

    None also for non-SCO and custom types, whose contributing properties kizuna cannot know.
    Raises ValueError when a value is outside I-JSON (RFC 8785), e.g. an integer beyond 2**53.
    """
    sco_type = obj.get("type")
    known = OBJECT_TYPES.get(sco_type) if isinstance(sco_type, str) else None
    if known is None or known.category is not Category.SCO:
        return None
    contributing: dict[str, Any] = {
        name: _contributing_value(known.name, name, obj[name])
        for name in known.id_contributing
        if name in obj
    }
    if not contributing:
        return None
    canonical = rfc8785.dumps(contributing)
    digest = hashlib.sha1(_NAMESPACE_BYTES + canonical, usedforsecurity=False).digest()
    return f"{known.name}--{uuid.UUID(bytes=digest[:16], version=5)}"
