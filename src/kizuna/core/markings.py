"""Markings on the wire → handling.

Reads TLP 2.0 and 1.0, PAP, IEP 2.0, statement markings and kizuna's own handling extension
(classification, release rule and recipients, embargo), at object level and granular level.
Marking-definitions are looked up through a ``resolve`` callable, so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kizuna.core.handling import (
    RELEASE_RULE_RANK,
    RELEASE_RULES,
    Classification,
    Embargo,
    Handling,
    stricter_tlp,
)
from kizuna.core.stix.timestamps import parse_timestamp

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
PAP_EXTENSION = "extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b"
IEP_EXTENSION = "extension-definition--762e2e97-ee51-43e5-a9ea-165fbb862c4a"
HANDLING_EXTENSION = "extension-definition--d40eaef1-df2c-4d1d-95b7-b07b7f39a099"

# REFERENCE.md: TLP 2.0 marking-definitions (OASIS cti-stix-common-objects).
TLP_2_0: dict[str, str] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
# TLP 1.0, built into STIX 2.1; WHITE maps to CLEAR.
TLP_1_0: dict[str, str] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
WELL_KNOWN_TLP: dict[str, str] = {**TLP_2_0, **TLP_1_0}
TLP_MARKING_ID: dict[str, str] = {label: mid for mid, label in TLP_2_0.items()}

_TLP_WORDS = {"white": "clear", "clear": "clear", "green": "green", "amber": "amber",
              "amber+strict": "amber+strict", "red": "red"}  # fmt: skip

Resolver = Callable[[str], Mapping[str, Any] | None]


class _Acc:
    """Accumulates the contributions of several marking-definitions, strictest wins."""

    def __init__(self) -> None:
        self.tlp: str | None = None
        self.classification: Classification | None = None
        self.release_rule: str | None = None
        self.recipients: frozenset[str] | None = None
        self.agreements: set[str] = set()
        self.embargo: Embargo | None = None
        self.pap: str | None = None
        self.iep: list[tuple[str, str]] = []
        self.statements: list[str] = []
        self.unresolved: set[str] = set()

    def add(self, marking_id: str, definition: Mapping[str, Any] | None) -> None:
        tlp = WELL_KNOWN_TLP.get(marking_id)
        if tlp is not None:
            self.tlp = stricter_tlp(self.tlp, tlp)
            return
        if definition is None:
            self.unresolved.add(marking_id)
            return
        try:
            self._add_definition(marking_id, definition)
        except (KeyError, TypeError, ValueError, AttributeError):
            # A marking we cannot read must not loosen anything: fail closed.
            self.unresolved.add(marking_id)

    def _add_definition(self, marking_id: str, md: Mapping[str, Any]) -> None:
        known = False
        dtype = md.get("definition_type")
        definition = md.get("definition")
        if dtype == "tlp" and isinstance(definition, Mapping):
            self.tlp = stricter_tlp(self.tlp, _TLP_WORDS[str(definition["tlp"]).lower()])
            known = True
        elif dtype == "statement" and isinstance(definition, Mapping):
            self.statements.append(str(definition["statement"]))
            known = True
        extensions = md.get("extensions") or {}
        if TLP_EXTENSION in extensions:
            self.tlp = stricter_tlp(self.tlp, _TLP_WORDS[extensions[TLP_EXTENSION]["tlp_2_0"]])
            known = True
        if PAP_EXTENSION in extensions:
            self.pap = str(extensions[PAP_EXTENSION]["pap"]).lower()
            known = True
        if IEP_EXTENSION in extensions:
            self._add_iep(extensions[IEP_EXTENSION])
            known = True
        if HANDLING_EXTENSION in extensions:
            self._add_handling(extensions[HANDLING_EXTENSION])
            known = True
        if not known:
            self.unresolved.add(marking_id)

    def _add_iep(self, iep: Mapping[str, Any]) -> None:
        # IEP 2.0's published schema lists fields it never defines: read leniently.
        for key in sorted(iep):
            value = iep[key]
            if key == "tlp":
                self.tlp = stricter_tlp(self.tlp, _TLP_WORDS[str(value).lower()])
            elif key != "extension_type" and isinstance(value, str | int | float | bool):
                self.iep.append((key, str(value)))

    def _add_handling(self, ext: Mapping[str, Any]) -> None:
        cls = ext.get("classification")
        if cls is not None:
            found = Classification(str(cls["scheme"]), str(cls["level"]))
            if self.classification is not None and self.classification != found:
                # Two different classifications on one object: refuse to guess which wins.
                self.unresolved.add("conflicting-classification")
            self.classification = found
        release = ext.get("release")
        if release is not None:
            rule = release.get("rule")
            if rule is not None:
                if rule not in RELEASE_RULES:
                    raise ValueError(f"unknown release rule {rule!r}")
                if (
                    self.release_rule is None
                    or RELEASE_RULE_RANK[rule] > RELEASE_RULE_RANK[self.release_rule]
                ):
                    self.release_rule = rule
            if "recipients" in release:
                # Two lists: each says "only these", so only those on both receive it.
                listed = frozenset(_ids(release["recipients"]))
                self.recipients = listed if self.recipients is None else self.recipients & listed
            self.agreements.update(_ids(release.get("agreements", ())))
        embargo = ext.get("embargo")
        if embargo is not None:
            until = parse_timestamp(str(embargo["until"]))
            participants = frozenset(_ids(embargo.get("participants", ())))
            if self.embargo is not None:
                # Two embargoes: the later end and only the common participants.
                until = max(until, self.embargo.until_us)
                participants &= self.embargo.participants
            self.embargo = Embargo(until, participants)

    def handling(self, granular: tuple[tuple[tuple[str, ...], Handling], ...] = ()) -> Handling:
        return Handling(
            tlp=self.tlp,
            classification=self.classification,
            release_rule=self.release_rule,
            recipients=self.recipients,
            release_agreements=frozenset(self.agreements),
            embargo=self.embargo,
            pap=self.pap,
            iep=tuple(self.iep),
            statements=tuple(self.statements),
            unresolved=frozenset(self.unresolved),
            granular=granular,
        )


def _ids(values: Iterable[Any]) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError("expected a list of ids")
    return [str(v) for v in values]


def handling_of(obj: Mapping[str, Any], resolve: Resolver) -> Handling:
    """Compute an object's handling from its object-level and granular markings."""
    acc = _Acc()
    for mid in obj.get("object_marking_refs") or ():
        acc.add(mid, resolve(mid))
    granular: list[tuple[tuple[str, ...], Handling]] = []
    for gm in obj.get("granular_markings") or ():
        ref = gm.get("marking_ref")
        if ref is None:
            continue  # a language marking: no handling
        part = _Acc()
        part.add(ref, resolve(ref))
        granular.append((tuple(gm.get("selectors") or ()), part.handling()))
    return acc.handling(tuple(granular))


def handling_marking(
    marking_id: str,
    created: str,
    created_by_ref: str | None = None,
    *,
    classification: Classification | None = None,
    release_rule: str | None = None,
    recipients: Iterable[str] | None = None,
    agreements: Iterable[str] = (),
    embargo_until: str | None = None,
    embargo_participants: Iterable[str] = (),
    name: str | None = None,
) -> dict[str, Any]:
    """Build a marking-definition carrying kizuna's handling extension."""
    ext: dict[str, Any] = {"extension_type": "property-extension"}
    if classification is not None:
        ext["classification"] = {"scheme": classification.scheme, "level": classification.level}
    release: dict[str, Any] = {}
    if release_rule is not None:
        release["rule"] = release_rule
    if recipients is not None:
        release["recipients"] = sorted(recipients)
    if agreements:
        release["agreements"] = sorted(agreements)
    if release:
        ext["release"] = release
    if embargo_until is not None:
        ext["embargo"] = {"until": embargo_until, "participants": sorted(embargo_participants)}
    md: dict[str, Any] = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": created,
        "extensions": {HANDLING_EXTENSION: ext},
    }
    if name:
        md["name"] = name
    if created_by_ref:
        md["created_by_ref"] = created_by_ref
    return md
