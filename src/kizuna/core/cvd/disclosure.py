"""The disclosure policy section of an agreement (``disclosure``, format version 1).

It states how the agreement's parties disclose vulnerabilities they coordinate together: the
default embargo (ISO/IEC 29147 and 30111 practice: 45 or 90 days), who is pre-notified and how
long before publication, which events end an embargo early, who may publish, and whether a
government party's finds go to the vendor by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POLICY_VERSIONS: tuple[int, ...] = (1,)
EARLY_RELEASE: tuple[str, ...] = ("attacks-observed", "exploit-public", "public-disclosure")
PUBLISHERS: tuple[str, ...] = ("any-participant", "coordinator", "joint")


class InvalidDisclosurePolicy(ValueError):
    """The disclosure section is malformed; the message says what is wrong."""


@dataclass(frozen=True)
class PreNotice:
    party: str
    days_before: int


@dataclass(frozen=True)
class DisclosurePolicy:
    version: int
    default_embargo_days: int
    publisher: str
    max_embargo_days: int | None = None
    pre_notify: tuple[PreNotice, ...] = ()
    early_release: tuple[str, ...] = ()
    government_finds_disclosed: bool = False

    def lines(self, names: Mapping[str, str] | None = None) -> list[str]:
        """Human-readable lines (party ids shown by name where known)."""
        names = names or {}
        out = [
            f"disclosure policy v{self.version}: default embargo {self.default_embargo_days} days"
            + (f" (at most {self.max_embargo_days})" if self.max_embargo_days else ""),
            f"  who publishes: {self.publisher}",
            "  early release on: " + (", ".join(self.early_release) or "nothing (embargo holds)"),
            "  government finds disclosed by default: "
            + ("yes" if self.government_finds_disclosed else "no"),
        ]
        for n in self.pre_notify:
            out.append(f"  pre-notified: {names.get(n.party, n.party)} {n.days_before} days before")
        return out


def _int(doc: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = doc[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidDisclosurePolicy(f"disclosure.{key} must be an integer from {low} to {high}")
    return value


def parse(doc: Any, party_ids: frozenset[str]) -> DisclosurePolicy:
    """Check a ``disclosure`` section against the agreement's parties."""
    if not isinstance(doc, Mapping):
        raise InvalidDisclosurePolicy("disclosure must be a mapping")
    known = {"version", "default_embargo_days", "max_embargo_days", "pre_notify",
             "early_release", "publisher", "government_finds_disclosed"}  # fmt: skip
    extra = sorted(set(doc) - known)
    if extra:
        raise InvalidDisclosurePolicy(f"unknown disclosure fields: {', '.join(extra)}")
    for key in ("version", "default_embargo_days", "publisher"):
        if key not in doc:
            raise InvalidDisclosurePolicy(f"disclosure.{key} is required")
    version = _int(doc, "version", 1, 10**6)
    if version not in POLICY_VERSIONS:
        raise InvalidDisclosurePolicy(
            f"disclosure.version {version} is not one this node reads ({POLICY_VERSIONS})"
        )
    default = _int(doc, "default_embargo_days", 1, 365)
    longest = _int(doc, "max_embargo_days", 1, 730) if "max_embargo_days" in doc else None
    if longest is not None and longest < default:
        raise InvalidDisclosurePolicy("disclosure.max_embargo_days is under default_embargo_days")
    publisher = doc["publisher"]
    if publisher not in PUBLISHERS:
        raise InvalidDisclosurePolicy(
            f"disclosure.publisher must be one of {', '.join(PUBLISHERS)}"
        )
    early = doc.get("early_release", [])
    if not isinstance(early, list) or any(e not in EARLY_RELEASE for e in early):
        raise InvalidDisclosurePolicy(
            f"disclosure.early_release lists events among {', '.join(EARLY_RELEASE)}"
        )
    if len(set(early)) != len(early):
        raise InvalidDisclosurePolicy("disclosure.early_release names an event twice")
    notices = []
    for entry in doc.get("pre_notify", []):
        if not isinstance(entry, Mapping) or set(entry) != {"party", "days_before"}:
            raise InvalidDisclosurePolicy(
                "each disclosure.pre_notify entry is {party, days_before}"
            )
        party = str(entry["party"])
        if party not in party_ids:
            raise InvalidDisclosurePolicy(
                f"disclosure.pre_notify names {party}, which is no party of the agreement"
            )
        notices.append(PreNotice(party, _int(entry, "days_before", 0, 365)))
    gov = doc.get("government_finds_disclosed", False)
    if not isinstance(gov, bool):
        raise InvalidDisclosurePolicy("disclosure.government_finds_disclosed is true or false")
    return DisclosurePolicy(version, default, str(publisher), longest, tuple(notices),
                            tuple(early), gov)  # fmt: skip
