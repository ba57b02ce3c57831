"""Ed25519 signatures over RFC 8785 canonical JSON (seals, agreements, consents, checkpoints).

Ed25519 signing is deterministic, so this stays in the pure core: keys come in as bytes.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_SAFE_INT = 2**53 - 1


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON bytes of a JSON value; ValueError if it has none.

    orjson with sorted keys writes exactly the JCS form when the value holds no floats and no
    object key outside the Basic Multilingual Plane (JCS sorts keys by UTF-16 code units and
    formats numbers the ES6 way); that covers nearly all STIX, 100 times faster than ``rfc8785``.
    """
    if _orjson_is_canonical(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"no RFC 8785 canonical form: {exc}") from exc


def _orjson_is_canonical(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, item in v.items():
                if not k.isascii() and any(ord(c) > 0xFFFF for c in k):
                    return False
                if type(item) is not str:  # strings, most of STIX, need no further look
                    stack.append(item)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, float) or (
            isinstance(v, int) and not isinstance(v, bool) and not -_SAFE_INT <= v <= _SAFE_INT
        ):
            return False
    return True


def digest(data: bytes) -> str:
    """The ``sha256:<hex>`` digest kizuna uses for content and chains."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    """Unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    """Inverse of ``b64``; ValueError on garbage."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64url") from exc


def public_key_of(private_key: bytes) -> str:
    """The base64url raw public key of a raw 32-byte Ed25519 private key."""
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    return b64(key.public_key().public_bytes_raw())


def key_id(public_key: str) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(unb64(public_key)).hexdigest()[:16]


def sign(private_key: bytes, message: bytes) -> str:
    """Sign ``message``; the signature as base64url."""
    return b64(Ed25519PrivateKey.from_private_bytes(private_key).sign(message))


def verify(public_key: str, message: bytes, signature: str) -> bool:
    """True when ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(unb64(public_key)).verify(unb64(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
