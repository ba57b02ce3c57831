"""Object path resolution (§9.3): the values a path selects from one object.

Semantics follow stix2-matcher: a key step reads a dictionary key; ``[n]`` one list element;
``[*]`` every element; a key ending in ``_ref`` is replaced by the object it names and one ending
in ``_refs`` by the list of objects it names (unresolvable ids are dropped); a key ending in
``_hex`` or ``_bin`` yields bytes. Where stix2-matcher raises on malformed data (a ``_ref`` that
is not a string, ``_hex`` that is not hex), kizuna drops that value instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from kizuna.core.patterns.ast import Star, Step
from kizuna.core.patterns.observation import JsonObject

_NOTHING = object()


def _decode_suffixed(key: str, value: Any) -> Any:
    """Bytes for ``*_hex`` and ``*_bin`` properties (§9.4 binary comparisons); else the value."""
    try:
        if key.endswith("_hex"):
            return binascii.a2b_hex(value)
        if key.endswith("_bin"):
            return base64.standard_b64decode(value)
    except (TypeError, ValueError):
        return _NOTHING
    return value


def _step_key(values: list[Any], key: str, objects: Mapping[str, JsonObject]) -> list[Any]:
    """Take one key step, decoding suffixed values and dereferencing ``_ref``/``_refs``."""
    stepped = []
    for value in values:
        if isinstance(value, dict) and key in value:
            item = _decode_suffixed(key, value[key])
            if item is not _NOTHING:
                stepped.append(item)
    if key.endswith("_ref"):
        return [objects[ref] for ref in stepped if isinstance(ref, str) and ref in objects]
    if key.endswith("_refs"):
        resolved = []
        for refs in stepped:
            if isinstance(refs, list):
                found = [objects[ref] for ref in refs if isinstance(ref, str) and ref in objects]
                if found:
                    resolved.append(found)
        return resolved
    return stepped


def resolve(
    obj: JsonObject, steps: tuple[Step, ...], objects: Mapping[str, JsonObject]
) -> list[Any]:
    """Every value ``steps`` select from ``obj``; references resolve within ``objects``."""
    values: list[Any] = [obj]
    for step in steps:
        if isinstance(step, str):
            values = _step_key(values, step, objects)
        elif isinstance(step, Star):
            values = [item for value in values if isinstance(value, list) for item in value]
        else:
            values = [
                value[step] for value in values if isinstance(value, list) and step < len(value)
            ]
        if not values:
            return values
    return values
