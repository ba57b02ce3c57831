"""Seals: an originator's Ed25519 signature over an object version, carried as a STIX object.

A seal is an ``x-kizuna-seal`` object (a new SDO type defined by kizuna's extension-definition,
so any STIX tool passes it through). It names the object and version it seals, the digest of
the object's RFC 8785 canonical JSON, the signer and its key; the signature is over those
canonical bytes. A derivative is sealed by the holder that derived it and names the original's
digest. Seals reference what they seal (``sealed_ref``), so rule 7 releases a seal only with
its object.

A node that releases an object a party posted under a creator that is no party cannot have that
creator's seal, and must not pass the object off as its own: it seals it as *received from* that
party (``received_from``), and the signature covers that statement too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.core import signing

SEAL_TYPE = "x-kizuna-seal"
SEAL_EXTENSION = "extension-definition--64d8deef-578c-4672-9913-25a1620065a6"
_NAMESPACE = uuid.UUID("3f1c6f2e-5b7e-4e35-9a52-8f0c2b9d1e47")


@dataclass(frozen=True)
class Seal:
    """A seal as stored and verified."""

    object_id: str
    version: str  # the sealed object's modified (or created) timestamp, as written in it
    signer: str
    key_id: str
    digest: str
    signature: str
    created: str
    original_digest: str | None = None
    received_from: str | None = None  # the party the sealing node received the object from

    @property
    def id(self) -> str:
        return seal_id(self.object_id, self.version, self.signer)

    def to_stix(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": SEAL_TYPE,
            "spec_version": "2.1",
            "id": self.id,
            "created": self.created,
            "modified": self.created,
            "created_by_ref": self.signer,
            "sealed_ref": self.object_id,
            "sealed_version": self.version,
            "digest": self.digest,
            "key_id": self.key_id,
            "signature": self.signature,
            "extensions": {SEAL_EXTENSION: {"extension_type": "new-sdo"}},
        }
        if self.original_digest:
            obj["original_digest"] = self.original_digest
        if self.received_from:
            obj["received_from"] = self.received_from
        return obj


class InvalidSeal(ValueError):
    """A seal that is malformed, does not match its object, or does not verify."""


def seal_id(object_id: str, version: str, signer: str) -> str:
    """Deterministic: the same signer sealing the same version always makes the same seal."""
    return f"{SEAL_TYPE}--{uuid.uuid5(_NAMESPACE, f'{object_id}|{version}|{signer}')}"


def version_of(obj: Mapping[str, Any]) -> str:
    """The version string of an object: ``modified``, else ``created``, else empty (SCOs)."""
    value = obj.get("modified") or obj.get("created") or ""
    return str(value)


def _message(body: bytes, received_from: str | None) -> bytes:
    """What a seal signs: the canonical object, and whom it was received from if said."""
    if not received_from:
        return body
    return body + b"\nreceived_from=" + received_from.encode()


def seal(
    obj: Mapping[str, Any],
    signer: str,
    private_key: bytes,
    created: str,
    original_digest: str | None = None,
    received_from: str | None = None,
) -> Seal:
    """Seal an object version with ``signer``'s key (as received from a party, if given)."""
    body = signing.canonical(obj)
    return Seal(
        object_id=str(obj["id"]),
        version=version_of(obj),
        signer=signer,
        key_id=signing.key_id(signing.public_key_of(private_key)),
        digest=signing.digest(body),
        signature=signing.sign(private_key, _message(body, received_from)),
        created=created,
        original_digest=original_digest,
        received_from=received_from,
    )


def parse(obj: Mapping[str, Any]) -> Seal:
    """A seal object as a value; InvalidSeal if it is malformed."""
    try:
        if obj.get("type") != SEAL_TYPE:
            raise InvalidSeal(f"not a {SEAL_TYPE}")
        parsed = Seal(
            object_id=str(obj["sealed_ref"]),
            version=str(obj["sealed_version"]),
            signer=str(obj["created_by_ref"]),
            key_id=str(obj["key_id"]),
            digest=str(obj["digest"]),
            signature=str(obj["signature"]),
            created=str(obj["created"]),
            original_digest=str(obj["original_digest"]) if obj.get("original_digest") else None,
            received_from=str(obj["received_from"]) if obj.get("received_from") else None,
        )
    except KeyError as exc:
        raise InvalidSeal(f"seal {obj.get('id')} lacks {exc.args[0]}") from exc
    if obj.get("id") != parsed.id:
        raise InvalidSeal(f"seal {obj.get('id')} does not carry its deterministic id")
    return parsed


def verify(s: Seal, obj: Mapping[str, Any], public_keys: tuple[str, ...]) -> None:
    """Check a seal against the object it seals and the signer's keys; InvalidSeal says why."""
    if s.object_id != obj.get("id") or s.version != version_of(obj):
        raise InvalidSeal(f"the seal is for {s.object_id} {s.version}, not this version")
    body = signing.canonical(obj)
    if signing.digest(body) != s.digest:
        raise InvalidSeal(f"{s.object_id}: the content does not match the sealed digest")
    keys = [k for k in public_keys if signing.key_id(k) == s.key_id]
    if not keys:
        raise InvalidSeal(
            f"{s.object_id}: the sealing key {s.key_id} is not a known key of {s.signer}"
        )
    if not signing.verify(keys[0], _message(body, s.received_from), s.signature):
        raise InvalidSeal(f"{s.object_id}: the seal's signature does not verify")
