"""The node's keys: show them, rotate the node's key, learn a peer's new key.

Rotation keeps the old public key among the home party's keys (old seals and checkpoints still
verify), signs from then on with the new one, and stores an ``x-kizuna-key-rotation``
announcement signed by the old key (core.key_rotation, TLP:CLEAR) that travels to peers like
any object. A peer that receives it from a party whose old key it trusts adds the new key
before it checks the seals that come with it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kizuna.core import key_rotation, signing
from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import InvalidInput, KizunaError
from kizuna.services.node import KEY_FILE, Node, new_private_key
from kizuna.storage import parties as party_store
from kizuna.storage import peers as peer_store
from kizuna.storage.schema import party_keys


def fingerprint(public_key: str) -> str:
    """SHA-256 of the raw public key, as colon-separated hex (what operators compare by phone)."""
    digest = hashlib.sha256(signing.unb64(public_key)).hexdigest()
    return "SHA256:" + ":".join(digest[i : i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    public_key: str
    fingerprint: str
    added: str | None
    signing: bool  # the key the node signs with now

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
            "added": self.added,
            "signing": self.signing,
        }


def keys_of(node: Node, party: Party) -> list[KeyInfo]:
    """A party's keys, oldest first (for the home party: the one it signs with marked)."""
    with node.db.read() as conn:
        rows = conn.execute(
            select(party_keys.c.key_id, party_keys.c.public_key, party_keys.c.added_us)
            .where(party_keys.c.party_id == party.id, party_keys.c.retired_us.is_(None))
            .order_by(party_keys.c.added_us)
        ).all()
    current = signing.key_id(node.public_key) if party.is_home else None
    out = [
        KeyInfo(kid, pk, fingerprint(pk), format_timestamp(int(added)), kid == current)
        for kid, pk, added in rows
    ]
    if party.is_home and not any(k.signing for k in out):
        out.append(
            KeyInfo(current or "", node.public_key, fingerprint(node.public_key), None, True)
        )
    return out


@dataclass(frozen=True)
class Rotated:
    old_key_id: str
    new_key_id: str
    new_public_key: str
    announcement: str
    retired_file: Path


def rotate(node: Node) -> Rotated:
    """Give the node a new key; the old one stays trusted for what it signed."""
    from kizuna.services import ingest, peers

    old_private = node.private_key
    old_key_id = signing.key_id(node.public_key)
    new_private = new_private_key()
    now = node.now()
    announcement = key_rotation.announce(
        node.home_party.id, old_private, new_private, format_timestamp(now)
    )
    pending = node.home / f"{KEY_FILE}.new"
    retired = node.home / f"{KEY_FILE}.{old_key_id}.retired"
    if pending.exists() or retired.exists():
        raise InvalidInput(f"{pending} or {retired} exists: an earlier rotation did not finish")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signing.b64(new_private) + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        # The announcement is an object of the home party's, released (and sealed) later.
        outcome = ingest.ingest(node, [announcement], submitter=node.home_party, path="import")[0]
        if outcome.error is not None:
            raise outcome.error
        with node.db.write() as conn:
            # The old key first, should the home party's row predate keys in the registry.
            party_store.add_key(conn, node.home_party.id, node.public_key, now)
            party_store.add_key(conn, node.home_party.id, signing.public_key_of(new_private), now)
            party_store.bump_generation(conn)
            # Peer tokens are encrypted with a key derived from the node's: encrypt them anew.
            tokens = {r.id: peers.open_token(node, r) for r in peer_store.all_peers(conn)}
            node.private_key = new_private
            for peer_id, token in tokens.items():
                peer_store.set_state(conn, peer_id, token=peers.seal_token(node, peer_id, token))
    except BaseException:
        node.private_key = old_private
        pending.unlink(missing_ok=True)
        raise
    os.link(node.home / KEY_FILE, retired)
    os.replace(pending, node.home / KEY_FILE)
    _fsync_dir(node.home)
    return Rotated(
        old_key_id,
        signing.key_id(signing.public_key_of(new_private)),
        signing.public_key_of(new_private),
        str(announcement["id"]),
        retired,
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def accept_rotations(
    node: Node, objects: Sequence[Any], parties: Mapping[str, Party]
) -> tuple[bool, dict[int, KizunaError]]:
    """Learn the new keys announced in a batch by parties other than the home party.

    Returns whether any key was added, and a refusal per announcement that does not verify.
    """
    added = False
    refused: dict[int, KizunaError] = {}
    home = node.home_party.id
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or obj.get("type") != key_rotation.ROTATION_TYPE:
            continue
        party = parties.get(str(obj.get("created_by_ref")))
        if party is None or party.id == home:
            continue  # not a party's (the home party rotates with `kizuna key rotate`)
        try:
            r = key_rotation.verify(obj, party.public_keys)
        except key_rotation.InvalidRotation as exc:
            if obj.get("new_public_key") in party.public_keys:
                continue  # known already (e.g. the old key was retired since)
            refused[i] = InvalidInput(str(exc), code="invalid-key-rotation")
            continue
        if r.new_public_key in party.public_keys:
            continue
        with node.db.write() as conn:
            party_store.add_key(conn, party.id, r.new_public_key, node.now())
            party_store.bump_generation(conn)
        added = True
    return added, refused
