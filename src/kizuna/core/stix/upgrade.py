"""Upgrade STIX 2.0 objects to STIX 2.1, keeping ids, markings and relationships.

What changes (STIX 2.1 Appendix "Changes from 2.0", and what the OASIS stix2-elevator does):

* ``spec_version: "2.1"`` is added to every object (2.0 objects carry none; the 2.0 bundle did).
* ``labels``, which 2.0 used as the type vocabulary of some objects, become the 2.1 property:
  indicator → ``indicator_types``, malware → ``malware_types``, report → ``report_types``,
  threat-actor → ``threat_actor_types``, tool → ``tool_types``. Elsewhere labels stay labels.
* indicator gets ``pattern_type: "stix"`` (2.0 had only STIX patterns; their grammar is a subset of
  2.1's, so ``pattern_version`` is left to its 2.1 default); ``valid_from`` is kept.
* malware gets ``is_family: true`` (required in 2.1; 2.0 malware described families).
* observed-data's embedded ``objects`` (deprecated in 2.1) become top-level SCOs that
  ``object_refs`` points at, their internal references (``"src_ref": "0"``) rewritten to ids.
  An SCO gets the §2.9 deterministic id when the observed-data carries no markings (identical
  observables then share one id); a marked one gets an id derived from the observed-data's id and
  its key (UUIDv4-shaped, the same on every import),
  so it carries its parent's markings (object-level ones and granular ones selecting into it)
  without colliding with the same observable marked differently elsewhere.
* SCO renames: process ``binary_ref`` → ``image_ref``, windows-registry-key ``modified`` →
  ``modified_time``.
* TLP 1.0 marking-definitions keep their ids (they are the same in 2.0 and 2.1).

Everything else (ids, ``created``/``modified``, ``created_by_ref``, relationships, sightings,
identity's ``identity_class``, custom properties) passes through unchanged. Pure: no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kizuna.core.stix.ids import sco_deterministic_id
from kizuna.core.stix.object_types import SCO_TYPES

__all__ = ["is_stix20", "upgrade", "upgrade_all"]

_NAMESPACE = uuid.UUID("7d0e4a3c-6f9b-4f57-9a3b-0c1e2d3f4a5b")

# 2.0 used ``labels`` as these types' vocabulary; 2.1 has a property of its own for it.
_LABELS_TO = {
    "indicator": "indicator_types",
    "malware": "malware_types",
    "report": "report_types",
    "threat-actor": "threat_actor_types",
    "tool": "tool_types",
}
_SCO_RENAMES = {
    "process": {"binary_ref": "image_ref"},
    "windows-registry-key": {"modified": "modified_time"},
}

_Obj = dict[str, Any]


def is_stix20(obj: Mapping[str, Any], bundle_version: str | None = None) -> bool:
    """True for an object written to STIX 2.0 (the validator's rule, or a 2.0 bundle's object)."""
    version = obj.get("spec_version")
    if version == "2.0":
        return True
    if version is not None:
        return False
    if bundle_version == "2.0":
        return True
    # 2.0 had no top-level SCOs, and every 2.0 object had ``created``.
    return obj.get("type") not in SCO_TYPES and "created" in obj


def upgrade(obj: Mapping[str, Any]) -> list[_Obj]:
    """One 2.0 object as 2.1: the object first, then any SCOs taken out of observed-data."""
    out: _Obj = {"type": obj.get("type"), "spec_version": "2.1"}
    out.update((k, v) for k, v in obj.items() if k not in ("type", "spec_version"))
    stix_type = out["type"]
    target = _LABELS_TO.get(stix_type) if isinstance(stix_type, str) else None
    if target is not None and "labels" in out and target not in out:
        out[target] = out.pop("labels")
    if stix_type == "indicator":
        out.setdefault("pattern_type", "stix")
    elif stix_type == "malware":
        out.setdefault("is_family", True)
    elif stix_type == "observed-data" and isinstance(out.get("objects"), Mapping):
        return _split_observed_data(out)
    return [out]


def upgrade_all(objects: Iterable[Any], bundle_version: str | None = None) -> Iterator[Any]:
    """Upgrade the 2.0 objects of a stream; anything else (2.1, non-dicts) passes through."""
    for obj in objects:
        if isinstance(obj, dict) and is_stix20(obj, bundle_version):
            yield from upgrade(obj)
        else:
            yield obj


def _split_observed_data(od: _Obj) -> list[_Obj]:
    embedded: Mapping[str, Any] = od.pop("objects")
    markings = list(od.get("object_marking_refs") or ())
    granular_for: dict[str, list[str]] = {}
    kept_granular = []
    for gm in od.get("granular_markings") or ():
        selectors = [s for s in gm.get("selectors") or () if isinstance(s, str)]
        inside = [s for s in selectors if s == "objects" or s.startswith("objects.")]
        for s in inside:
            key = s.split(".")[1] if s.count(".") >= 1 else None
            for k in [key] if key is not None else list(embedded):
                ref = gm.get("marking_ref")
                if isinstance(ref, str):
                    granular_for.setdefault(str(k), []).append(ref)
        rest = [s for s in selectors if s not in inside]
        if rest:
            kept_granular.append({**gm, "selectors": rest})
    if "granular_markings" in od:
        if kept_granular:
            od["granular_markings"] = kept_granular
        else:
            del od["granular_markings"]
    ids: dict[str, str] = {}
    scos: dict[str, _Obj] = {}
    for key in _dependency_order(embedded):
        raw = embedded[key]
        if not isinstance(raw, Mapping):
            continue
        sco: _Obj = {"type": raw.get("type"), "spec_version": "2.1"}
        renames = _SCO_RENAMES.get(str(raw.get("type")), {})
        for name, value in raw.items():
            if name not in ("type", "spec_version", "id"):
                sco[renames.get(str(name), str(name))] = _rewrite_refs(value, ids, str(name))
        own = sorted(set(markings) | set(granular_for.get(key, ())))
        if own:
            sco["object_marking_refs"] = own
            sco_id = _local_id(sco, od, key)
        else:
            try:
                sco_id = sco_deterministic_id(sco) or ""
            except ValueError:
                sco_id = ""
            if not sco_id:
                sco_id = _local_id(sco, od, key)
        sco = {"type": sco["type"], "spec_version": "2.1", "id": sco_id, **_rest(sco)}
        ids[key] = sco_id
        scos[key] = sco
    od["object_refs"] = [ids[k] for k in embedded if k in ids]
    return [od, *(scos[k] for k in embedded if k in scos)]


def _local_id(sco: _Obj, od: _Obj, key: str) -> str:
    """An id that is this observed-data's own, the same on every import: the bits of a UUIDv5
    of its id and the object's key, stamped version 4 (§2.9 demands a UUIDv4 where no ID
    contributing property is set; a pure module has no randomness, and re-imports must match)."""
    digest = uuid.uuid5(_NAMESPACE, "{}|{}".format(od.get("id"), key)).bytes
    return f"{sco['type']}--{uuid.UUID(bytes=digest, version=4)}"


def _rest(sco: _Obj) -> _Obj:
    return {k: v for k, v in sco.items() if k not in ("type", "spec_version", "id")}


def _refs_in(value: Any, name: str = "") -> Iterator[str]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _refs_in(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _refs_in(v, name)
    elif isinstance(value, str) and (name.endswith("_ref") or name.endswith("_refs")):
        yield value


def _dependency_order(embedded: Mapping[str, Any]) -> list[str]:
    """Keys with the objects they reference first (their ids feed deterministic ids)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(key: str) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            return  # a cycle: the later one is placed with the key it has so far
        state[key] = 1
        for ref in _refs_in(embedded.get(key)):
            if ref in embedded and ref != key:
                visit(ref)
        state[key] = 2
        order.append(key)

    for key in embedded:
        visit(str(key))
    return order


def _rewrite_refs(value: Any, ids: Mapping[str, str], name: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _rewrite_refs(v, ids, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_refs(v, ids, name) for v in value]
    if isinstance(value, str) and (name.endswith("_ref") or name.endswith("_refs")):
        return ids.get(value, value)
    return value
