"""Peers: the other nodes this node syncs with. Their tokens are kept encrypted at rest."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kizuna.core.parties import Party
from kizuna.errors import AlreadyExists, InvalidInput, NotFound
from kizuna.services import parties as party_service
from kizuna.services.node import Node
from kizuna.storage import peers as peer_store
from kizuna.storage.peers import PeerRecord


def _cipher(node: Node) -> AESGCM:
    # The token a peer issued us must be usable, so it cannot be hashed: it is encrypted with
    # a key derived from this node's private key, which never enters the database.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"kizuna peer tokens").derive(
        node.private_key
    )
    return AESGCM(key)


def seal_token(node: Node, peer_id: str, token: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _cipher(node).encrypt(nonce, token.encode(), peer_id.encode())


def open_token(node: Node, record: PeerRecord) -> str:
    try:
        return (
            _cipher(node).decrypt(record.token[:12], record.token[12:], record.id.encode()).decode()
        )
    except InvalidTag as exc:
        raise InvalidInput(
            f"the stored token of peer {record.url} cannot be decrypted with this node's key"
        ) from exc


def _check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(f"{url!r} is not an http(s) URL of a kizuna node")
    return url.rstrip("/") + "/"


def add(node: Node, url: str, party: str, token: str, *, push: bool = False) -> PeerRecord:
    """Register a peer: its URL, the party that runs it, and the token it issued us."""
    url = _check_url(url)
    who: Party = party_service.find(node, party)
    if who.id == node.home_party.id:
        raise InvalidInput("a node does not peer with itself")
    if not token.strip():
        raise InvalidInput("a peer needs the token it issued to this node")
    with node.db.read() as conn:
        if any(p.url == url for p in peer_store.all_peers(conn)):
            raise AlreadyExists(f"{url} is a peer already")
    peer_id = str(uuid.uuid4())
    record = PeerRecord(
        id=peer_id,
        url=url,
        party_id=who.id,
        token=seal_token(node, peer_id, token.strip()),
        push=push,
        cursor=None,
        push_cursor=None,
        policy_generation=None,
        last_sync_us=None,
        last_ok_us=None,
        last_error=None,
        failures=0,
        pulled=0,
        pushed=0,
        created_us=node.now(),
    )
    with node.db.write() as conn:
        peer_store.add(conn, record)
    return record


def all_peers(node: Node) -> list[PeerRecord]:
    with node.db.read() as conn:
        return peer_store.all_peers(conn)


def find(node: Node, peer: str) -> PeerRecord:
    """A peer by id, URL or the name of its party."""
    for record in all_peers(node):
        party = party_service.find(node, record.party_id)
        if (
            peer in (record.id, record.url, record.url.rstrip("/"))
            or peer.lower() == party.name.lower()
        ):
            return record
    raise NotFound(f"no peer {peer!r}; `kizuna peer list` shows them")


def remove(node: Node, peer: str) -> PeerRecord:
    record = find(node, peer)
    with node.db.write() as conn:
        peer_store.remove(conn, record.id)
    return record
