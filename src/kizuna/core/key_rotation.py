"""A party's new key, announced to its peers in a message signed by its old key.

An ``x-kizuna-key-rotation`` object names the party (``created_by_ref``), the key it retires
from signing (``old_key_id``) and the new public key. ``signature`` is the old key's signature
over the announcement's canonical statement, so a peer that trusts the old key can trust the new
one; ``proof`` is the new key's signature over the same bytes (whoever announces the key holds
it). Peers keep the old key too: seals and checkpoints it made stay verifiable.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.core import signing
from kizuna.core.markings import TLP_MARKING_ID

ROTATION_TYPE = "x-kizuna-key-rotation"
ROTATION_EXTENSION = "extension-definition--8f1d2b7a-3c4e-4a5b-9d6e-7f8091a2b3c4"
_NAMESPACE = uuid.UUID("d2a9c1e4-5b6f-4e7a-8c9d-0e1f2a3b4c5d")


class InvalidRotation(ValueError):
    """An announcement that is malformed or whose signatures do not verify."""


@dataclass(frozen=True)
class Rotation:
    party: str
    old_key_id: str
    new_public_key: str
    created: str


def _statement(r: Rotation) -> bytes:
    return signing.canonical(
        {
            "type": ROTATION_TYPE,
            "party": r.party,
            "old_key_id": r.old_key_id,
            "new_public_key": r.new_public_key,
            "created": r.created,
        }
    )


def announce(party: str, old_private: bytes, new_private: bytes, created: str) -> dict[str, Any]:
    """The announcement of ``new_private``'s public key, signed by ``old_private``."""
    r = Rotation(
        party,
        signing.key_id(signing.public_key_of(old_private)),
        signing.public_key_of(new_private),
        created,
    )
    statement = _statement(r)
    new_key_id = signing.key_id(r.new_public_key)
    return {
        "type": ROTATION_TYPE,
        "spec_version": "2.1",
        "id": f"{ROTATION_TYPE}--{uuid.uuid5(_NAMESPACE, f'{party}|{new_key_id}')}",
        "created": created,
        "modified": created,
        "created_by_ref": party,
        "old_key_id": r.old_key_id,
        "new_public_key": r.new_public_key,
        "new_key_id": new_key_id,
        "signature": signing.sign(old_private, statement),
        "proof": signing.sign(new_private, statement),
        "object_marking_refs": [TLP_MARKING_ID["clear"]],
        "extensions": {ROTATION_EXTENSION: {"extension_type": "new-sdo"}},
    }


def verify(obj: Mapping[str, Any], known_keys: tuple[str, ...]) -> Rotation:
    """The rotation an announcement makes, if one of ``known_keys`` (the party's keys this node
    trusts) signed it and the new key proved itself; InvalidRotation says why not."""
    try:
        r = Rotation(
            str(obj["created_by_ref"]),
            str(obj["old_key_id"]),
            str(obj["new_public_key"]),
            str(obj["created"]),
        )
        signature, proof = str(obj["signature"]), str(obj["proof"])
    except KeyError as exc:
        raise InvalidRotation(f"key rotation {obj.get('id')} lacks {exc.args[0]}") from exc
    old = [k for k in known_keys if signing.key_id(k) == r.old_key_id]
    if not old:
        raise InvalidRotation(
            f"key rotation of {r.party}: the old key {r.old_key_id} is not a key this node"
            " trusts for it"
        )
    statement = _statement(r)
    if not signing.verify(old[0], statement, signature):
        raise InvalidRotation(f"key rotation of {r.party}: the old key's signature does not verify")
    try:
        proved = signing.verify(r.new_public_key, statement, proof)
    except ValueError:
        proved = False
    if not proved:
        raise InvalidRotation(f"key rotation of {r.party}: the new key's proof does not verify")
    return r
