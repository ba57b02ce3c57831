"""Plain values an analyst pastes (IPs, domains, URLs, e-mail addresses, hashes) as STIX SCOs,
and SCOs wrapped in an ``observed-data`` so they can be matched and sighted.

A bare value says less than a STIX observation: an address seen, not whether it was a source or
a destination; an e-mail address, not whether it sent or received. Indicators say more: MISP
writes an ``ip-dst`` attribute as ``[network-traffic:dst_ref.value = '…']``, an ``email-src``
as ``[email-message:from_ref.value = '…']``, a ``domain|ip`` as a domain whose
``resolves_to_refs`` hold the address. So each value is matched as its own observation, with
the roles it may have played (``Observable.forms``); only the plain SCOs are ever stored, since
the roles are readings, not observations. MISP's composite values are read too: ``domain|ip``,
``ip|port`` and ``filename|hash``.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kizuna.core.stix.ids import sco_deterministic_id

_HASHES = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
# The spellings patterns use for the same algorithm (STIX's, and the unhyphenated ones).
_HASH_SPELLINGS = {"SHA-1": ("SHA1",), "SHA-256": ("SHA256",), "SHA-512": ("SHA512",)}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")
_FORMS = uuid.UUID("3f1b6c52-7a0e-4b55-9d1c-1e8f7b2a9c40")


def _with_id(obj: dict[str, Any]) -> dict[str, Any]:
    obj["spec_version"] = "2.1"
    # Every kind built here has ID-contributing properties, so the id is the deterministic one.
    obj["id"] = sco_deterministic_id(obj)
    return obj


def _address(text: str) -> dict[str, Any] | None:
    try:
        address = (
            ipaddress.ip_network(text, strict=False) if "/" in text else ipaddress.ip_address(text)
        )
    except ValueError:
        return None
    kind = "ipv4-addr" if address.version == 4 else "ipv6-addr"
    return _with_id({"type": kind, "value": text})


def _hash(text: str) -> dict[str, str] | None:
    if _HEX.match(text) and len(text) in _HASHES:
        return {_HASHES[len(text)]: text.lower()}
    return None


def sco_of(value: str) -> dict[str, Any]:
    """The SCO a plain value stands for; ValueError says why a value is not one."""
    text = value.strip()
    if not text:
        raise ValueError("an empty value")
    address = _address(text)
    if address is not None:
        return address
    if _URL.match(text):
        return _with_id({"type": "url", "value": text})
    if _EMAIL.match(text):
        return _with_id({"type": "email-addr", "value": text})
    hashes = _hash(text)
    if hashes is not None:
        return _with_id({"type": "file", "hashes": hashes})
    if _DOMAIN.match(text):
        return _with_id({"type": "domain-name", "value": text.lower()})
    raise ValueError(f"{text!r} is not an IP address, domain, URL, e-mail address or hash")


@dataclass(frozen=True)
class Observable:
    """One value as given: the SCOs it is (stored), and the objects it is matched as."""

    text: str
    scos: tuple[dict[str, Any], ...]
    forms: tuple[dict[str, Any], ...]  # objects standing for the roles the SCOs may have had

    @property
    def objects(self) -> list[dict[str, Any]]:
        """What an observation of this value holds: the SCOs, then their roles (a role may
        replace an SCO by id, with the same value and a reference more)."""
        by_id = {o["id"]: o for o in self.scos}
        by_id.update({o["id"]: o for o in self.forms})
        return list(by_id.values())


def _form_id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(_FORMS, '|'.join(str(p) for p in parts))}"


def _traffic(address: dict[str, Any], port: int | None = None) -> list[dict[str, Any]]:
    """The address as a destination and as a source of traffic (MISP ip-dst, ip-src); with a
    port, the port on the same side, as a number and as the string MISP's patterns compare."""
    out = []
    for side in ("dst", "src"):
        ports: list[object] = [None] if port is None else [port, str(port)]
        for p in ports:
            form: dict[str, Any] = {
                "type": "network-traffic",
                "id": _form_id("network-traffic", address["id"], side, repr(p)),
                f"{side}_ref": address["id"],
                "protocols": ["ipv4" if address["type"] == "ipv4-addr" else "ipv6"],
            }
            if p is not None:
                form[f"{side}_port"] = p
            out.append(form)
    return out


def _mail(address: dict[str, Any]) -> list[dict[str, Any]]:
    """The address as sender (MISP email-src), envelope sender and recipient (email-dst)."""
    roles: list[tuple[str, Any]] = [
        ("from_ref", address["id"]),
        ("sender_ref", address["id"]),
        ("to_refs", [address["id"]]),
    ]
    return [
        {
            "type": "email-message",
            "id": _form_id("email-message", address["id"], name),
            "is_multipart": False,
            name: ref,
        }
        for name, ref in roles
    ]


def _hash_spellings(file: dict[str, Any]) -> list[dict[str, Any]]:
    hashes = dict(file.get("hashes") or {})
    extra = {
        alt: hashes[name]
        for name, alts in _HASH_SPELLINGS.items()
        if name in hashes
        for alt in alts
    }
    return [{**file, "hashes": {**hashes, **extra}}] if extra else []


def _roles(sco: dict[str, Any]) -> list[dict[str, Any]]:
    if sco["type"] in ("ipv4-addr", "ipv6-addr"):
        return _traffic(sco)
    if sco["type"] == "email-addr":
        return _mail(sco)
    if sco["type"] == "file":
        return _hash_spellings(sco)
    return []


def observable_of(value: str) -> Observable:
    """The observable a line stands for; ValueError says why it is none."""
    text = value.strip()
    if "|" in text and not _URL.match(text):
        return _composite(text)
    sco = sco_of(text)
    return Observable(text, (sco,), tuple(_roles(sco)))


def _composite(text: str) -> Observable:
    """MISP's composite values: ``domain|ip``, ``ip|port``, ``filename|hash``."""
    left, _, right = (part.strip() for part in text.partition("|"))
    address = _address(right)
    if address is not None and _DOMAIN.match(left):
        domain = _with_id({"type": "domain-name", "value": left.lower()})
        resolved = {**domain, "resolves_to_refs": [address["id"]]}
        return Observable(text, (domain, address), (resolved, *_traffic(address)))
    address = _address(left)
    if address is not None and right.isdigit() and 0 <= int(right) <= 65535:
        return Observable(text, (address,), tuple(_traffic(address, int(right))))
    hashes = _hash(right)
    if hashes is not None and left:
        file = _with_id({"type": "file", "name": left, "hashes": hashes})
        return Observable(text, (file,), tuple(_hash_spellings(file)))
    raise ValueError(f"{text!r} is none of MISP's domain|ip, ip|port or filename|hash values")


def observables_of(values: Iterable[str]) -> tuple[list[Observable], list[tuple[str, str]]]:
    """An observable for each value (blank lines and # comments skipped, repeats once), and
    (value, reason) for each that is none."""
    good: list[Observable] = []
    bad: list[tuple[str, str]] = []
    seen: set[str] = set()
    for value in values:
        if not value.strip() or value.lstrip().startswith("#"):
            continue
        try:
            found = observable_of(value)
        except ValueError as exc:
            bad.append((value.strip(), str(exc)))
            continue
        key = " ".join(sorted(o["id"] for o in found.objects))
        if key not in seen:
            seen.add(key)
            good.append(found)
    return good, bad


def scos_of(values: Iterable[str]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """SCOs for each value (each once), and (value, reason) for each that is none."""
    found, bad = observables_of(values)
    scos = {s["id"]: s for o in found for s in o.scos}
    return list(scos.values()), bad


def observed_data(
    observed_id: str, scos: Sequence[dict[str, Any]], created_by: str, now: str, count: int = 1
) -> dict[str, Any]:
    """An observed-data object that observes these SCOs once, now."""
    return {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": observed_id,
        "created": now,
        "modified": now,
        "created_by_ref": created_by,
        "first_observed": now,
        "last_observed": now,
        "number_observed": count,
        "object_refs": [s["id"] for s in scos],
    }
