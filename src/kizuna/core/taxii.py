"""TAXII 2.1 rules that need no I/O: collections, query filters, cursors, resources.

The HTTP face parses requests with these and the services page through the store with them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.errors import InvalidCursor, InvalidFilter

MEDIA_TAXII = "application/taxii+json;version=2.1"
MEDIA_STIX = "application/stix+json;version=2.1"
# kizuna's own response header: the node's policy generation (see services.sync).
GENERATION_HEADER = "X-Kizuna-Policy-Generation"

INBOX = "0d2d5b8e-6a0c-5e7b-9f5c-6b1c1d1f0a01"
RELEASED = "0d2d5b8e-6a0c-5e7b-9f5c-6b1c1d1f0a02"


@dataclass(frozen=True)
class Collection:
    """A TAXII collection as kizuna defines it for every caller."""

    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": self.can_read,
            "can_write": self.can_write,
            "media_types": [MEDIA_STIX],
        }


COLLECTIONS: dict[str, Collection] = {
    INBOX: Collection(
        INBOX,
        "Inbox",
        "Post your own objects here. Reading it lists the objects you originated.",
        True,
        True,
    ),
    RELEASED: Collection(
        RELEASED,
        "Released to you",
        "Everything this node's policy gate releases to you.",
        True,
        False,
    ),
}

_TYPE = re.compile(r"^[a-z0-9-]{1,250}$")
# The shape of a STIX identifier, loosely (the validator judges UUID versions on ingest).
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,249}--[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_SPEC_VERSIONS = ("2.0", "2.1")


@dataclass(frozen=True)
class Filters:
    """Parsed TAXII filters. ``versions`` holds "last", "first", "all" or µs timestamps."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    submitted_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Query:
    """A parsed objects/manifest/versions request."""

    filters: Filters = field(default_factory=Filters)
    added_after: int | None = None
    limit: int = 100
    cursor: int | None = None

    @property
    def after(self) -> int | None:
        """Where to start: past both ``added_after`` and ``next``."""
        marks = [m for m in (self.added_after, self.cursor) if m is not None]
        return max(marks) if marks else None


def looks_like_id(value: str) -> bool:
    """Whether ``value`` has the shape of a STIX identifier (no object has any other id)."""
    return _ID.fullmatch(value) is not None


def check_types(types: Sequence[str]) -> tuple[str, ...]:
    """STIX type names for a filter; InvalidFilter for anything else."""
    for t in types:
        if not _TYPE.match(t):
            raise InvalidFilter(f"match[type] value {t!r} is not a STIX type name")
    return tuple(types)


def _values(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in params.get(name, ()):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return tuple(out)


_ALLOWED = frozenset(
    {"added_after", "limit", "next", "match[id]", "match[type]", "match[version]",
     "match[spec_version]"}
)  # fmt: skip


def parse_query(
    params: Mapping[str, Sequence[str]],
    *,
    page_size: int,
    max_page_size: int,
    allow: frozenset[str] = _ALLOWED,
) -> Query:
    """Parse TAXII query parameters; InvalidFilter names the parameter that is wrong."""
    unknown = sorted(set(params) - allow)
    if unknown:
        raise InvalidFilter(f"unsupported query parameter {unknown[0]!r} for this endpoint")
    types = check_types(_values(params, "match[type]"))
    ids = _values(params, "match[id]")
    for i in ids:
        if not looks_like_id(i):
            raise InvalidFilter(f"match[id] value {i!r} is not a STIX identifier")
    versions = _values(params, "match[version]") or ("last",)
    parsed_versions: list[str] = []
    for v in versions:
        if v in ("last", "first", "all"):
            parsed_versions.append(v)
        else:
            parsed_versions.append(str(_timestamp("match[version]", v)))
    spec_versions = _values(params, "match[spec_version]")
    for sv in spec_versions:
        if sv not in _SPEC_VERSIONS:
            raise InvalidFilter(f"match[spec_version] value {sv!r} is not 2.0 or 2.1")
    added_after = None
    if "added_after" in params:
        added_after = _timestamp("added_after", _one(params, "added_after"))
    limit = page_size
    if "limit" in params:
        raw = _one(params, "limit")
        # isascii: str.isdigit() is also true for "²", which int() refuses.
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise InvalidFilter(f"limit must be a positive integer, not {raw!r}")
        limit = min(int(raw), max_page_size)
    cursor = decode_cursor(_one(params, "next")) if "next" in params else None
    filters = Filters(
        ids=ids,
        types=types,
        versions=tuple(parsed_versions),
        # No match[spec_version] means the latest spec version only (TAXII 2.1 §3.4.1).
        spec_versions=spec_versions or ("2.1",),
    )
    return Query(filters, added_after, limit, cursor)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params[name]
    if len(values) != 1:
        raise InvalidFilter(f"{name} may be given once")
    return values[0]


def _timestamp(name: str, value: str) -> int:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InvalidFilter(f"{name} value {value!r} is not a STIX timestamp: {exc}") from exc


_CURSOR_PREFIX = "kz1."


def encode_cursor(position: int) -> str:
    """An opaque ``next`` value; it encodes a position only, so it never expires."""
    raw = position.to_bytes(8, "big", signed=True)
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(value: str) -> int:
    """Inverse of ``encode_cursor``; InvalidCursor for anything this node did not issue."""
    if not value.startswith(_CURSOR_PREFIX):
        raise InvalidCursor(f"next value {value!r} was not issued by this server")
    body = value[len(_CURSOR_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(f"next value {value!r} is damaged") from exc
    if len(raw) != 8:
        raise InvalidCursor(f"next value {value!r} is damaged")
    return int.from_bytes(raw, "big", signed=True)


def taxii_timestamp(us: int) -> str:
    """TAXII timestamps always carry microseconds."""
    return format_timestamp(us)


def error_resource(
    title: str, http_status: int, description: str | None = None, error_code: str | None = None
) -> dict[str, Any]:
    """The TAXII 2.1 error message resource (§3.6.1)."""
    out: dict[str, Any] = {"title": title, "http_status": str(http_status)}
    if description:
        out["description"] = description
    if error_code:
        out["error_code"] = error_code
    return out


def status_resource(
    status_id: str,
    request_timestamp: int,
    successes: Sequence[Mapping[str, Any]],
    failures: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A complete status resource: every object was processed before the POST answered."""
    total = len(successes) + len(failures)
    out: dict[str, Any] = {
        "id": status_id,
        "status": "complete",
        "request_timestamp": taxii_timestamp(request_timestamp),
        "total_count": total,
        "success_count": len(successes),
        "failure_count": len(failures),
        "pending_count": 0,
    }
    if successes:
        out["successes"] = list(successes)
    if failures:
        out["failures"] = list(failures)
    return out
