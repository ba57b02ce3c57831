"""The ids an object references, for rule 7 (no leaks through references) and the graph.

Rule 7 follows what an object depends on, not who wrote it: an object's own ``created_by_ref``
names its author, part of its own content under its own handling (DESIGN.md "The handling of an
object is its own"), so ``references(obj, authorship=False)`` leaves it out. Markings are never
followed either: they are handling vocabulary, released to every party.
"""

from __future__ import annotations

from typing import Any

# Marking references are handling vocabulary, released to every party (policy.HANDLING_VOCABULARY).
_SKIP = frozenset({"object_marking_refs", "granular_markings"})


def references(obj: dict[str, Any], *, authorship: bool = True) -> list[str]:
    """Every id in ``*_ref`` and ``*_refs`` properties, top level and nested, in order, once;
    without the object's own ``created_by_ref`` when ``authorship`` is False (rule 7)."""
    seen: dict[str, None] = {}
    _walk(obj, seen, top=True, authorship=authorship)
    return list(seen)


def _walk(
    value: dict[str, Any], seen: dict[str, None], top: bool = False, authorship: bool = True
) -> None:
    # Objects come from JSON: exact type checks (not ABCs) keep this cheap on the ingest path.
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            if key.endswith("_ref") and "--" in item:
                if top and not authorship and key == "created_by_ref":
                    continue
                seen.setdefault(item, None)
        elif kind is list:
            if top and key in _SKIP:
                continue
            if key.endswith("_refs"):
                for ref in item:
                    if type(ref) is str and "--" in ref:
                        seen.setdefault(ref, None)
            else:
                _walk_list(item, seen)
        elif kind is dict:
            _walk(item, seen)


def _walk_list(items: list[Any], seen: dict[str, None]) -> None:
    for item in items:
        kind = type(item)
        if kind is dict:
            _walk(item, seen)
        elif kind is list:
            _walk_list(item, seen)
