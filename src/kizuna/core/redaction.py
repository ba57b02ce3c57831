"""Derivatives: what the gate releases instead of an object it may not release whole.

Rule 7 drops withheld references from a container; rule 8 removes what an agreement's redaction
profile names. A derivative gets a new deterministic id, so two nodes deriving the same thing
agree on its id, and it says what it derives from in kizuna's derivative extension.

A derivative carries nothing computed from what was withheld from its recipient: not the
removed ids, not their count, not a digest of the original. Its id is UUIDv5 of the original's
id, the profile and the digest of what the recipient receives (the derivative less its id and
this extension): all things the recipient sees. The profile names only the agreement's
redaction profiles (which the recipient, a party to that agreement, knows) or, when nothing but
references and marked parts were removed, the word ``withheld``. Different content under one
id and version would be a conflict at the recipient (DESIGN.md "Storage and identity rules"),
so what is released decides the id; what is withheld never does.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from kizuna.core.agreements import RedactionProfile
from kizuna.core.signing import canonical, digest

DERIVATIVE_EXTENSION = "extension-definition--bbc9f87e-7a80-440b-a410-9efcae19351f"
DERIVATIVE_NAMESPACE = uuid.UUID("ec616573-524a-4c05-8796-f708d5ece7a9")
# The profile of a derivative that no redaction profile made: references or parts withheld.
WITHHELD = "withheld"

# Reference lists STIX requires to be non-empty (STIX 2.1 §4); a derivative that would empty one
# cannot be released at all.
REQUIRED_REF_LISTS: dict[str, tuple[str, ...]] = {
    "report": ("object_refs",),
    "grouping": ("object_refs",),
    "note": ("object_refs",),
    "opinion": ("object_refs",),
    "observed-data": (),
}


class NothingLeft(ValueError):
    """A derivative would lose a property STIX requires: the object is withheld instead."""


def touching(
    profiles: Iterable[RedactionProfile], obj: Mapping[str, Any]
) -> tuple[RedactionProfile, ...]:
    """The profiles that would change this object: the others need no derivative."""
    stix_type = str(obj.get("type"))
    return tuple(p for p in profiles if any(prop in obj for prop in p.properties_for(stix_type)))


def profile_name(
    profiles: Iterable[RedactionProfile], withheld_refs: Iterable[str] = (), cut: Iterable[str] = ()
) -> str:
    """The profile a derivative is made under: the redaction profiles applied, or ``withheld``.

    Which references or parts were removed never enters it (nor, through it, the id): a
    recipient that could compute it from candidate ids would learn what is withheld from it.
    """
    del withheld_refs, cut  # deliberately unused: see the docstring
    return "+".join(sorted(p.name for p in profiles)) or WITHHELD


def derived_id(original_id: str, profile: str, released: Mapping[str, Any]) -> str:
    """The deterministic id of a derivative: same type, UUIDv5(original id | profile | digest
    of ``released``, the derivative's content without its id and the derivative extension)."""
    stix_type = original_id.split("--", 1)[0]
    body = digest(canonical({k: v for k, v in released.items() if k != "id"}))
    return f"{stix_type}--{uuid.uuid5(DERIVATIVE_NAMESPACE, f'{original_id}|{profile}|{body}')}"


def derive(
    obj: Mapping[str, Any],
    *,
    profiles: Iterable[RedactionProfile] = (),
    withheld_refs: frozenset[str] = frozenset(),
    cut: frozenset[str] = frozenset(),
    required: frozenset[str] = frozenset(),
    renamed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build the derivative of ``obj``; NothingLeft if it would break a required property.

    ``renamed`` maps references to the ids of the derivatives the recipient gets in their
    place, so what it receives references nothing it does not hold."""
    profiles = tuple(profiles)
    out = copy.deepcopy(dict(obj))
    stix_type = str(out["type"])
    for selector in sorted(cut, key=_selector_order, reverse=True):
        _cut(out, selector)
    for prop in required:
        if prop not in out:
            raise NothingLeft(f"the required property {prop} is marked beyond the recipient")
    for profile in profiles:
        for prop in profile.properties_for(stix_type):
            out.pop(prop, None)
    if withheld_refs:
        _drop_refs(out, withheld_refs)
    if renamed:
        _rename_refs(out, renamed)
    for prop in REQUIRED_REF_LISTS.get(stix_type, ()):
        if not out.get(prop):
            raise NothingLeft(f"every object in {prop} is withheld")
    if stix_type == "observed-data" and not (out.get("object_refs") or out.get("objects")):
        raise NothingLeft("every observed object is withheld")
    name = profile_name(profiles, withheld_refs, cut)
    original_id = str(obj["id"])
    out["id"] = derived_id(original_id, name, out)
    extensions = dict(out.get("extensions") or {})
    extensions[DERIVATIVE_EXTENSION] = {
        "extension_type": "property-extension",
        "derived_from": original_id,
        "derived_from_version": obj.get("modified") or obj.get("created"),
        "profile": name,
    }
    out["extensions"] = extensions
    return out


def _drop_refs(value: Any, withheld: frozenset[str]) -> None:
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            if key.endswith("_refs") and isinstance(item, list):
                kept = [r for r in item if r not in withheld]
                if kept:
                    value[key] = kept
                else:
                    del value[key]
            elif key.endswith("_ref") and item in withheld:
                del value[key]
            elif isinstance(item, dict | list):
                _drop_refs(item, withheld)
    elif isinstance(value, list):
        for item in value:
            _drop_refs(item, withheld)


def _rename_refs(value: Any, renamed: Mapping[str, str]) -> None:
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            if key.endswith("_refs") and isinstance(item, list):
                value[key] = [renamed.get(r, r) if isinstance(r, str) else r for r in item]
            elif key.endswith("_ref") and isinstance(item, str):
                value[key] = renamed.get(item, item)
            elif isinstance(item, dict | list):
                _rename_refs(item, renamed)
    elif isinstance(value, list):
        for item in value:
            _rename_refs(item, renamed)


def _selector_order(selector: str) -> tuple[tuple[int, str], ...]:
    # Cut deeper list items first and higher indexes first, so earlier cuts keep later paths.
    return tuple((int(p[1:-1]), "") if p.startswith("[") else (-1, p) for p in selector.split("."))


def _cut(obj: dict[str, Any], selector: str) -> None:
    """Remove what a granular-marking selector (STIX 2.1 §7.2.3.1) points at."""
    steps = selector.split(".")
    node: Any = obj
    for step in steps[:-1]:
        if step.startswith("[") and isinstance(node, list):
            index = int(step[1:-1])
            if index >= len(node):
                return
            node = node[index]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return
    last = steps[-1]
    if last.startswith("[") and isinstance(node, list):
        index = int(last[1:-1])
        if index < len(node):
            del node[index]
    elif isinstance(node, dict):
        node.pop(last, None)
