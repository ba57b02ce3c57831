"""The ids an object references, for rule 7 (no leaks through references) and the graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Marking references are handling vocabulary, released to every party (policy.HANDLING_VOCABULARY).
_SKIP = frozenset({"object_marking_refs", "granular_markings"})


def references(obj: Mapping[str, Any]) -> list[str]:
    """Every id in ``*_ref`` and ``*_refs`` properties, top level and nested, in order, once."""
    seen: dict[str, None] = {}
    _walk(obj, seen, top=True)
    return list(seen)


def _walk(value: Any, seen: dict[str, None], top: bool = False) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if top and key in _SKIP:
                continue
            if key.endswith("_ref") and isinstance(item, str):
                if "--" in item:
                    seen.setdefault(item, None)
            elif key.endswith("_refs") and isinstance(item, list):
                for ref in item:
                    if isinstance(ref, str) and "--" in ref:
                        seen.setdefault(ref, None)
            elif isinstance(item, Mapping | list):
                _walk(item, seen)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping | list):
                _walk(item, seen)
