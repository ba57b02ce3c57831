"""IP addresses and CIDR blocks for ``ISSUBSET``/``ISSUPERSET`` (§9.5) and the index.

IPv4 follows stix2-matcher exactly: addresses are read like C ``inet_aton`` (so ``10.1`` is
``10.0.0.1``) and prefixes must be 1–32. IPv6, which stix2-matcher refuses, is kizuna's
extension: any text with a ``:`` is read with ``ipaddress`` (prefixes 0–128).
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

_DECIMAL = frozenset(b"0123456789")
_OCTAL = frozenset(b"01234567")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_C_SPACE = frozenset(b" \t\n\x0b\x0c\r")
_PART_LIMITS = (0xFFFFFFFF, 0xFFFFFF, 0xFFFF, 0xFF)


class Block(NamedTuple):
    """An address or CIDR block: family (4 or 6), address bits as written, prefix length."""

    family: int
    address: int
    prefix: int

    @property
    def width(self) -> int:
        """Address width in bits."""
        return 32 if self.family == 4 else 128

    def network(self, prefix: int) -> int:
        """The address masked to its first ``prefix`` bits."""
        shift = self.width - prefix
        return (self.address >> shift) << shift


def inet_aton(text: str) -> int | None:
    """The IPv4 address glibc's ``inet_aton`` reads from ``text``, or None (what Python refuses).

    Parts may be decimal, octal (``0`` prefix) or hex (``0x``); the last part fills the
    remaining bytes; anything after a C whitespace character is ignored.
    """
    if "\x00" in text:
        return None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    size = len(data)
    parts: list[int] = []
    i = 0
    while True:
        if i >= size or data[i] not in _DECIMAL:
            return None
        # strtoul(cp, &end, 0): "0x" + hex digit is hex, a leading "0" is octal.
        if data[i] == 0x30 and i + 2 < size and data[i + 1] in b"xX" and data[i + 2] in _HEX:
            j = i + 2
            while j < size and data[j] in _HEX:
                j += 1
            value = int(data[i + 2 : j], 16)
        elif data[i] == 0x30:
            j = i + 1
            while j < size and data[j] in _OCTAL:
                j += 1
            value = int(data[i:j], 8)
        else:
            j = i
            while j < size and data[j] in _DECIMAL:
                j += 1
            value = int(data[i:j])
        if value > 0xFFFFFFFF:
            return None
        i = j
        if i < size and data[i] == 0x2E:  # "."
            if len(parts) > 2 or value > 0xFF:
                return None
            parts.append(value)
            i += 1
        else:
            break
    if i < size and data[i] not in _C_SPACE:
        return None
    if value > _PART_LIMITS[len(parts)]:
        return None
    for index, part in enumerate(parts):
        value |= part << (24 - 8 * index)
    return value


def _ipv4_block(text: str) -> Block | None:
    """An IPv4 address or CIDR block as stix2-matcher reads it (prefix 1–32), or None."""
    slash = text.find("/")
    if slash == -1:
        address = inet_aton(text)
        return None if address is None else Block(4, address, 32)
    address = inet_aton(text[:slash])
    prefix_text = text[slash + 1 :]
    if address is None or not prefix_text.isdigit():
        return None
    try:
        prefix = int(prefix_text)
    except ValueError:
        return None
    if prefix < 1 or prefix > 32:
        return None
    return Block(4, address, prefix)


def _ipv6_block(text: str) -> Block | None:
    """An IPv6 address or CIDR block, or None."""
    try:
        if "/" in text:
            network = ipaddress.IPv6Network(text, strict=False)
            return Block(6, int(network.network_address), network.prefixlen)
        return Block(6, int(ipaddress.IPv6Address(text)), 128)
    except ValueError:
        return None


def parse_block(text: str) -> Block | None:
    """An IPv4 (stix2-matcher rules) or IPv6 (kizuna extension) address or block, or None."""
    if ":" in text:
        return _ipv6_block(text)
    return _ipv4_block(text)


def contains(container: Block, containee: Block) -> bool:
    """Whether ``containee`` lies inside ``container`` (same family, narrower or equal prefix)."""
    if container.family != containee.family or container.prefix > containee.prefix:
        return False
    return container.network(container.prefix) == containee.network(container.prefix)


def parse_network(text: str) -> Block | None:
    """A CIDR block written with a ``/prefix`` (a bare address is no container), or None."""
    return parse_block(text) if "/" in text else None


def subset_of(containee_text: str, container_text: str) -> bool | None:
    """``containee ISSUBSET container``; None when either is unreadable (the matcher raises)."""
    container = parse_network(container_text)
    containee = parse_block(containee_text)
    if container is None or containee is None or container.family != containee.family:
        return None
    return contains(container, containee)
