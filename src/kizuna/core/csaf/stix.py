"""CSAF 2.0 document → STIX 2.1 objects, and back (pure).

Each CSAF vulnerability becomes a STIX `vulnerability`: CVE, CWE, other ids and the references
as `external_references`, the CVSS scores in `x_kizuna_cvss`. The document itself is kept
verbatim, byte for byte, as the `content` of one STIX `note` (`abstract` "CSAF 2.0 …",
`object_refs` the vulnerabilities, an external reference carrying the tracking id, the document's
own URL where it gives one, and the SHA-512 of the text). Writing back (`document_text`) returns
that text unchanged: nothing of the document is lost, whatever fields it uses.

Ids are UUIDv5 of the publisher's namespace, the tracking id and the document category (and the
CVE or position), so
importing the same document again is "unchanged" and a later revision is a new version (its
`modified` is the document's current_release_date). All objects carry the document's TLP.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import InvalidCsaf

# kizuna's namespace for the ids of objects made from CSAF documents.
CSAF_ID_NAMESPACE = uuid.UUID("0d7c0e3c-5a43-5c2e-9b7f-6b1c1f0e3a51")
NOTE_ABSTRACT_PREFIX = "CSAF 2.0 "
CSAF_SOURCE = "csaf"
# CSAF 2.0 §3.2.1.5.2: TLP 1.0 labels; AMBER+STRICT is recognised in distribution.text.
_TLP_WORDS = {"WHITE": "clear", "GREEN": "green", "AMBER": "amber", "RED": "red"}
_DESCRIBING_NOTES = ("summary", "description", "details", "general")


@dataclass(frozen=True)
class Converted:
    """The STIX objects made from one CSAF document, its TLP word (or None) and the note id."""

    objects: list[dict[str, Any]]
    tlp: str | None
    note_id: str


def is_csaf(document: object) -> bool:
    """True for a JSON document shaped like CSAF: a "document" object with a csaf_version."""
    if not isinstance(document, dict):
        return False
    meta = document.get("document")
    return isinstance(meta, dict) and "csaf_version" in meta


def tlp_of(document: Mapping[str, Any]) -> str | None:
    """The kizuna TLP word of a CSAF document's distribution, or None when it names none."""
    dist = document["document"].get("distribution") or {}
    label = (dist.get("tlp") or {}).get("label")
    if label is None:
        return None
    word = _TLP_WORDS[label]
    if word == "amber" and "AMBER+STRICT" in str(dist.get("text", "")).upper():
        return "amber+strict"
    return word


def to_stix(document: Mapping[str, Any], text: str) -> Converted:
    """The STIX objects for a schema-valid CSAF 2.0 `document` whose JSON text is `text`."""
    meta = document["document"]
    tracking = meta["tracking"]
    # A security advisory and a VEX document may share a tracking id: the category keeps apart.
    scope = f"{meta['publisher']['namespace']}|{tracking['id']}|{meta['category']}"
    created = _stamp(tracking["initial_release_date"])
    modified = max(_stamp(tracking["current_release_date"]), created)
    tlp = tlp_of(document)
    marks = [TLP_MARKING_ID[tlp]] if tlp else []
    common: dict[str, Any] = {
        "spec_version": "2.1",
        "created": format_timestamp(created),
        "modified": format_timestamp(modified),
    }
    if marks:
        common["object_marking_refs"] = marks
    advisory_ref = {
        "source_name": meta["publisher"]["name"],
        "external_id": tracking["id"],
        "description": meta["title"],
    }
    vulns = [
        _vulnerability(v, n, scope, common, advisory_ref)
        for n, v in enumerate(document.get("vulnerabilities") or ())
    ]
    note_id = f"note--{uuid.uuid5(CSAF_ID_NAMESPACE, scope)}"
    own = next(
        (r["url"] for r in meta.get("references") or () if r.get("category") == "self"), None
    )
    note_ref: dict[str, Any] = {
        "source_name": CSAF_SOURCE,
        "external_id": tracking["id"],
        "description": f"{meta['category']} version {tracking['version']}",
        "hashes": {"SHA-512": hashlib.sha512(text.encode()).hexdigest()},
    }
    if own:
        note_ref["url"] = own
    note: dict[str, Any] = {
        "type": "note",
        "id": note_id,
        **common,
        "abstract": f"{NOTE_ABSTRACT_PREFIX}{meta['category']} {tracking['id']}: {meta['title']}",
        "content": text,
        "authors": [meta["publisher"]["name"]],
        # A note must refer to something (STIX §4.9): a document without vulnerabilities
        # (csaf_base, informational) refers to itself.
        "object_refs": [v["id"] for v in vulns] or [note_id],
        "external_references": [note_ref],
        "lang": meta["lang"] if isinstance(meta.get("lang"), str) else "en",
    }
    return Converted([*vulns, note], tlp, note_id)


def document_text(note: Mapping[str, Any]) -> str:
    """The CSAF document an imported note keeps, exactly as it was imported."""
    abstract = note.get("abstract")
    if (
        note.get("type") != "note"
        or not isinstance(abstract, str)
        or not abstract.startswith(NOTE_ABSTRACT_PREFIX)
    ):
        raise InvalidCsaf(f"{note.get('id')}: not a note holding a CSAF document")
    return str(note["content"])


def _vulnerability(
    v: Mapping[str, Any],
    n: int,
    scope: str,
    common: Mapping[str, Any],
    advisory_ref: Mapping[str, Any],
) -> dict[str, Any]:
    key = v.get("cve") or (v["ids"][0]["text"] if v.get("ids") else f"#{n}")
    refs: list[dict[str, Any]] = []
    if v.get("cve"):
        refs.append({"source_name": "cve", "external_id": v["cve"]})
    if v.get("cwe"):
        refs.append(
            {"source_name": "cwe", "external_id": v["cwe"]["id"], "description": v["cwe"]["name"]}
        )
    for other in v.get("ids") or ():
        refs.append({"source_name": other["system_name"], "external_id": other["text"]})
    refs.append(dict(advisory_ref))
    for r in v.get("references") or ():
        refs.append({"source_name": CSAF_SOURCE, "url": r["url"], "description": r["summary"]})
    out: dict[str, Any] = {
        "type": "vulnerability",
        "id": f"vulnerability--{uuid.uuid5(CSAF_ID_NAMESPACE, f'{scope}|{key}')}",
        **common,
        "name": v.get("cve") or v.get("title") or str(key),
        "external_references": refs,
    }
    description = _description(v)
    if description:
        out["description"] = description
    scores = [s for s in (_score(s) for s in v.get("scores") or ()) if s]
    if scores:
        out["x_kizuna_cvss"] = scores
    return out


def _description(v: Mapping[str, Any]) -> str | None:
    parts = [v["title"]] if v.get("title") else []
    notes = v.get("notes") or ()
    for category in _DESCRIBING_NOTES:
        parts.extend(n["text"] for n in notes if n.get("category") == category)
    return "\n\n".join(parts) or None


def _score(s: Mapping[str, Any]) -> dict[str, Any] | None:
    """One CSAF score as {version, vector, base_score, base_severity?, products}."""
    body = s.get("cvss_v3") or s.get("cvss_v2")
    if not body:
        return None
    out: dict[str, Any] = {
        "version": body["version"],
        "vector": body["vectorString"],
        "base_score": body["baseScore"],
        "products": list(s.get("products") or ()),
    }
    if "baseSeverity" in body:
        out["base_severity"] = body["baseSeverity"]
    return out


def _stamp(text: str) -> int:
    """A CSAF date-time (RFC 3339, any offset) as microseconds since the epoch, UTC."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidCsaf(f"{text!r} is not a CSAF date-time: {exc}") from exc
    if when.tzinfo is None:
        raise InvalidCsaf(f"{text!r} has no time zone")
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
