"""Plain values an analyst pastes (IPs, domains, URLs, e-mail addresses, hashes) as STIX SCOs,
and SCOs wrapped in an ``observed-data`` so they can be matched and sighted."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import Any

from kizuna.core.stix.ids import sco_deterministic_id

_HASHES = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")


def sco_of(value: str) -> dict[str, Any]:
    """The SCO a plain value stands for; ValueError says why a value is not one."""
    text = value.strip()
    if not text:
        raise ValueError("an empty value")
    obj: dict[str, Any]
    try:
        address = (
            ipaddress.ip_network(text, strict=False) if "/" in text else ipaddress.ip_address(text)
        )
    except ValueError:
        address = None
    if address is not None:
        kind = "ipv4-addr" if address.version == 4 else "ipv6-addr"
        obj = {"type": kind, "value": text}
    elif _URL.match(text):
        obj = {"type": "url", "value": text}
    elif _EMAIL.match(text):
        obj = {"type": "email-addr", "value": text}
    elif _HEX.match(text) and len(text) in _HASHES:
        obj = {"type": "file", "hashes": {_HASHES[len(text)]: text.lower()}}
    elif _DOMAIN.match(text):
        obj = {"type": "domain-name", "value": text.lower()}
    else:
        raise ValueError(f"{text!r} is not an IP address, domain, URL, e-mail address or hash")
    obj["spec_version"] = "2.1"
    # Every kind above has ID-contributing properties, so the id is the deterministic one.
    obj["id"] = sco_deterministic_id(obj)
    return obj


def scos_of(values: Iterable[str]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """SCOs for each value, and (value, reason) for each that is none."""
    good: list[dict[str, Any]] = []
    bad: list[tuple[str, str]] = []
    seen: set[str] = set()
    for value in values:
        if not value.strip() or value.lstrip().startswith("#"):
            continue
        try:
            sco = sco_of(value)
        except ValueError as exc:
            bad.append((value.strip(), str(exc)))
            continue
        if sco["id"] not in seen:
            seen.add(sco["id"])
            good.append(sco)
    return good, bad


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
