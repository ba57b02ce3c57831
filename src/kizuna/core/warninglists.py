"""MISP warning lists: values known to be benign (top sites, public DNS, cloud ranges, …).

A match on a listed value is flagged as likely benign, never dropped: some lists (VPN ranges,
say) are far too broad to drop on. Matching follows MISP's list types: ``string`` (exact),
``hostname`` (the name or any subdomain of it), ``substring``, ``regex`` and ``cidr``.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Which MISP attribute types stand for each SCO value we check.
_ATTRIBUTES: dict[str, frozenset[str]] = {
    "ipv4-addr": frozenset({"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"}),
    "ipv6-addr": frozenset({"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"}),
    "domain-name": frozenset({"domain", "hostname", "domain|ip"}),
    "url": frozenset({"url", "uri", "link"}),
    "email-addr": frozenset({"email", "email-src", "email-dst"}),
    "MD5": frozenset({"md5", "filename|md5"}),
    "SHA-1": frozenset({"sha1", "filename|sha1"}),
    "SHA-256": frozenset({"sha256", "filename|sha256"}),
    "SHA-512": frozenset({"sha512", "filename|sha512"}),
}


@dataclass
class _Ranges:
    """Sorted, merged address ranges of one IP family, searched by bisection."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> _Ranges:
        spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in networks)
        out = cls()
        for start, end in spans:
            if out.ends and start <= out.ends[-1] + 1:
                out.ends[-1] = max(out.ends[-1], end)
            else:
                out.starts.append(start)
                out.ends.append(end)
        return out

    def __contains__(self, address: int) -> bool:
        i = bisect.bisect_right(self.starts, address) - 1
        return i >= 0 and address <= self.ends[i]


@dataclass
class WarningList:
    name: str
    kind: str
    applies_to: frozenset[str]
    strings: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()
    v4: _Ranges = field(default_factory=_Ranges)
    v6: _Ranges = field(default_factory=_Ranges)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> WarningList:
        kind = str(data.get("type", "string"))
        values = [str(v).strip() for v in data.get("list", ()) if str(v).strip()]
        wl = cls(str(data["name"]), kind, frozenset(data.get("matching_attributes", ())))
        if kind == "cidr":
            nets4: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
            nets6: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
            for v in values:
                try:
                    net = ipaddress.ip_network(v, strict=False)
                except ValueError:
                    continue
                (nets4 if net.version == 4 else nets6).append(net)
            wl.v4, wl.v6 = _Ranges.of(nets4), _Ranges.of(nets6)
        elif kind == "regex":
            compiled = []
            for v in values:
                try:
                    compiled.append(re.compile(v.strip("/"), re.IGNORECASE))
                except re.error:
                    continue
            wl.patterns = tuple(compiled)
        else:
            wl.strings = frozenset(v.lower().rstrip(".") for v in values)
        return wl

    def holds(self, value: str) -> bool:
        v = value.strip().lower().rstrip(".")
        if self.kind == "cidr":
            try:
                address = ipaddress.ip_address(v.split("/")[0])
            except ValueError:
                return False
            ranges = self.v4 if address.version == 4 else self.v6
            return int(address) in ranges
        if self.kind == "hostname":
            host = _host(v)
            parts = host.split(".")
            return any(".".join(parts[i:]) in self.strings for i in range(len(parts)))
        if self.kind == "substring":
            return any(s in v for s in self.strings)
        if self.kind == "regex":
            return any(p.search(v) for p in self.patterns)
        return v in self.strings or _host(v) in self.strings


def _host(value: str) -> str:
    if "://" in value:
        value = value.split("://", 1)[1]
    return value.split("/", 1)[0].split(":", 1)[0]


class WarningLists:
    """All lists, asked one value at a time."""

    def __init__(self, lists: Iterable[WarningList]) -> None:
        self.lists = list(lists)

    def __len__(self) -> int:
        return len(self.lists)

    def check(self, kind: str, value: str) -> list[str]:
        """Names of the lists that hold this value (``kind``: an SCO type or a hash name)."""
        attributes = _ATTRIBUTES.get(kind, frozenset())
        return [
            wl.name
            for wl in self.lists
            if (not wl.applies_to or wl.applies_to & attributes) and wl.holds(value)
        ]


def values_of(sco: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) pairs of an SCO worth checking against warning lists."""
    out: list[tuple[str, str]] = []
    if isinstance(sco.get("value"), str):
        out.append((str(sco.get("type")), sco["value"]))
    hashes = sco.get("hashes")
    if isinstance(hashes, Mapping):
        out.extend((str(k).upper(), str(v)) for k, v in hashes.items())
    return out
