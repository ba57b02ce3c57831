"""The ids an object references, for rule 7 (no leaks through references) and the graph."""

from __future__ import annotations

from typing import Any

# Marking references are handling vocabulary, released to every party (policy.HANDLING_VOCABULARY).
_SKIP = frozenset({"object_marking_refs", "granular_markings"})


def references(obj: dict[str, Any]) -> list[str]:
    """Every id in ``*_ref`` and ``*_refs`` properties, top level and nested, in order, once."""
    seen: dict[str, None] = {}
    _walk(obj, seen, top=True)
    return list(seen)


def _walk(value: dict[str, Any], seen: dict[str, None], top: bool = False) -> None:
    # Objects come from JSON: exact type checks (not ABCs) keep this cheap on the ingest path.
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            if key.endswith("_ref") and "--" in item:
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
