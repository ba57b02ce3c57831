"""MISP events in and out, through MISP's own converter library (misp-stix).

In: ``convert`` turns one MISP event into STIX 2.1 with ``MISPtoSTIX21Parser`` and puts the
event's handling on every object it produced (``core.misp_handling``: tags and distribution of
the event, and of the attribute or object each STIX object came from). Out: ``export_events``
turns what a party would receive (through the gate) into MISP events with misp-stix's STIX→MISP
parser, then writes each object's handling back as MISP tags and a distribution that is never
wider than what kizuna released.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from kizuna.core import misp_handling as mh
from kizuna.core.handling import Handling
from kizuna.core.markings import WELL_KNOWN_TLP, handling_of
from kizuna.core.parties import Party
from kizuna.core.stix.refs import references
from kizuna.core.well_known import FIXED, STANDARD_EXTENSIONS
from kizuna.errors import InvalidInput, InvalidJson
from kizuna.services import export, state
from kizuna.services.node import Node

log = logging.getLogger("kizuna.misp")

# Containers reference everything in an event: they pass no element handling to what they list.
# A sighting is about what it sights: its handling is not the sighted object's either.
_CONTAINERS = frozenset({"grouping", "report", "note", "opinion", "sighting"})
# The MISP elements at event level that carry a distribution of their own.
_ELEMENTS = ("Attribute", "EventReport", "Note", "Opinion", "Relationship", "Sighting")
# What hangs on an element and carries a distribution of its own.
_HANGING = ("Sighting", "Note", "Opinion", "Relationship")
# Repairs of upstream data (each documented in docs/misp-mapping.md).
_REPAIR_NAMESPACE = uuid.UUID("4b7f3c9e-2a61-4d1b-8c0f-6e5d4c3b2a19")


def _load_misp_stix() -> None:
    """Import misp-stix on first use (it is heavy), quietly: its STIX 1 dependencies (mixbox's
    vendored six) raise an ImportWarning on Python 3.11 that says nothing about kizuna's data."""
    if "misp_stix_converter" in sys.modules:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import misp_stix_converter  # noqa: F401
    # That vendored six (1.x) leaves a finder on sys.meta_path without ``find_spec``, so every
    # later import in the process warns. Give it the ``find_spec`` six 1.16 added.
    for finder in sys.meta_path:
        kind = type(finder)
        if kind.__name__ == "_SixMetaPathImporter" and not hasattr(kind, "find_spec"):
            setattr(kind, "find_spec", _six_find_spec)  # noqa: B010 (a class we do not own)


def _six_find_spec(self: Any, fullname: str, path: Any = None, target: Any = None) -> Any:
    if self.find_module(fullname, path) is None:
        return None
    return importlib.util.spec_from_loader(fullname, self)


def is_misp(document: Any) -> bool:
    """True for a MISP event document: ``{"Event"}``, ``{"response": [...]}`` or a list of them."""
    if isinstance(document, list):
        return bool(document) and all(isinstance(d, dict) and "Event" in d for d in document)
    if not isinstance(document, dict):
        return False
    if "Event" in document:
        return True
    response = document.get("response")
    if isinstance(response, list):
        return bool(response) and all(isinstance(d, dict) and "Event" in d for d in response)
    return "Attribute" in document and "info" in document and "uuid" in document


def events_of(document: Any, where: str) -> list[dict[str, Any]]:
    """The MISP events of a document, each as the bare event dict."""
    if isinstance(document, dict) and "response" in document:
        document = document["response"]
    items = document if isinstance(document, list) else [document]
    events = []
    for item in items:
        event = item.get("Event", item) if isinstance(item, dict) else None
        if not isinstance(event, dict):
            raise InvalidJson(f"{where}: not a MISP event")
        events.append(event)
    return events


def directory(node: Node) -> mh.Directory:
    """What the mapping needs to know about this node's parties and settings."""
    st = state.current(node)
    return mh.Directory(
        home=node.home_party.id,
        clients=st.clients,
        by_uuid={p.id.split("--", 1)[1]: p.id for p in st.parties.values()},
        by_name={p.name.casefold(): p.id for p in st.parties.values()},
        default_tlp=str(node.settings()["misp_default_tlp"]),
    )


@dataclass
class Converted:
    """One MISP event as STIX 2.1 objects (marking-definitions first), with what was noticed."""

    uuid: str
    info: str
    objects: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    # Objects many events share (the author's identity, galaxy clusters): one stored version
    # with the same ``modified`` is kept as it is (see ``services.bulk``).
    shared: frozenset[str] = frozenset()


def convert(event: Mapping[str, Any], where: str, dirs: mh.Directory) -> Converted:
    """One MISP event → STIX 2.1 through misp-stix, with its handling on every object."""
    _load_misp_stix()
    from misp_stix_converter import MISPtoSTIX21Parser

    event = _repaired(event)
    event = _cut_stricter_object_attributes(event, dirs)
    event_uuid = str(event.get("uuid") or "?")
    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_misp_event({"Event": event})
        stix: list[dict[str, Any]] = orjson.loads(parser.bundle.serialize())["objects"]
    except Exception as exc:  # misp-stix raises many kinds; each is this event's fault
        raise InvalidInput(
            f"{where}: MISP event {event_uuid} could not be converted by misp-stix: {exc}"
        ) from exc
    notes = [f"{k}: {m}" for k, msgs in parser.warnings.items() for m in msgs]
    home = dirs.home
    sharing_group = (
        event.get("SharingGroup") if isinstance(event.get("SharingGroup"), dict) else None
    )
    definitions: dict[str, dict[str, Any]] = {}
    consumed: set[str] = set()
    unreadable: list[str] = []

    def refs_of(spec: mh.Spec) -> set[str]:
        refs, defs = mh.markings_for(spec, home)
        definitions.update((d["id"], d) for d in defs)
        consumed.update(spec.consumed)
        unreadable.extend(spec.unreadable)
        return set(refs)

    event_refs = refs_of(mh.spec_for(event, dirs, event=True))
    own: dict[str, set[str]] = {}  # MISP uuid → the element's own marking refs (and its parents')

    def walk(element: Mapping[str, Any], inherited: set[str]) -> set[str]:
        """Mark one element and, under it, what hangs on it (sightings, analyst data,
        galaxy clusters): each at least as strict as itself and what it hangs on."""
        spec = mh.spec_for(element, dirs, event=False, event_sharing_group=sharing_group)
        refs = inherited | refs_of(spec)
        if element.get("uuid"):
            own[str(element["uuid"])] = refs
        for child in _children(element):
            walk(child, refs)
        return refs

    for kind in _ELEMENTS:
        for element in event.get(kind) or ():
            if isinstance(element, dict):
                walk(element, set())
    for galaxy in event.get("Galaxy") or ():
        for cluster in galaxy.get("GalaxyCluster") or () if isinstance(galaxy, dict) else ():
            if isinstance(cluster, dict):
                walk(cluster, set())
    for obj in event.get("Object") or ():
        if not isinstance(obj, dict) or not obj.get("uuid"):
            continue
        refs = walk(obj, set())
        for attr in obj.get("Attribute") or ():
            if isinstance(attr, dict):
                walk(attr, refs)
    objects = _apply(stix, event_refs, own, consumed, set(dirs.by_uuid.values()))
    clusters = _cluster_uuids(event)
    shared = frozenset(
        o["id"]
        for o in objects
        if o.get("type") == "identity" or _uuid_of(str(o.get("id"))) in clusters
    )
    return Converted(
        event_uuid,
        str(event.get("info") or ""),
        [*definitions.values(), *objects],
        notes,
        sorted(set(unreadable)),
        shared,
    )


def _children(element: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """What hangs on one MISP element: its sightings, analyst data and galaxy clusters."""
    for kind in _HANGING:
        for child in element.get(kind) or ():
            if isinstance(child, Mapping):
                yield child
    for galaxy in element.get("Galaxy") or ():
        for cluster in galaxy.get("GalaxyCluster") or () if isinstance(galaxy, Mapping) else ():
            if isinstance(cluster, Mapping):
                yield cluster


def _cut_stricter_object_attributes(event: Mapping[str, Any], dirs: mh.Directory) -> dict[str, Any]:
    """A copy where each object attribute whose handling is stricter than its object's is cut
    out of the object and becomes an attribute of the event (same uuid, its own handling).

    One STIX object (an indicator's pattern, an observed-data) carries one handling: left in,
    a private attribute would hold back its public neighbours; cut out, it stays on the node
    as its own object, and the object goes without it. An object left with no attribute is
    dropped (its attributes all went to the event).
    """
    objects = event.get("Object")
    if not objects:
        return dict(event)
    sharing_group = (
        event.get("SharingGroup") if isinstance(event.get("SharingGroup"), dict) else None
    )
    kept_objects: list[Any] = []
    moved: list[dict[str, Any]] = []
    for obj in objects:
        if not isinstance(obj, dict):
            kept_objects.append(obj)
            continue
        object_refs, _ = mh.markings_for(
            mh.spec_for(obj, dirs, event=False, event_sharing_group=sharing_group), dirs.home
        )
        kept: list[Any] = []
        for attr in obj.get("Attribute") or ():
            if not isinstance(attr, dict):
                kept.append(attr)
                continue
            spec = mh.spec_for(attr, dirs, event=False, event_sharing_group=sharing_group)
            refs, _ = mh.markings_for(spec, dirs.home)
            if set(refs) <= set(object_refs):
                kept.append(attr)
            else:
                alone = {k: v for k, v in attr.items() if k not in ("object_relation", "object_id")}
                moved.append(alone)
        if len(kept) == len(obj.get("Attribute") or ()):
            kept_objects.append(obj)
        elif kept:
            kept_objects.append({**obj, "Attribute": kept})
    if not moved:
        return dict(event)
    return {
        **event,
        "Object": kept_objects,
        "Attribute": [*(event.get("Attribute") or ()), *moved],
    }


def _cluster_uuids(event: Mapping[str, Any]) -> set[str]:
    """The uuids of every galaxy cluster an event, its attributes or objects carry."""
    found: set[str] = set()
    elements = [event, *(event.get("Attribute") or ())]
    for obj in event.get("Object") or ():
        if isinstance(obj, dict):
            elements.extend(obj.get("Attribute") or ())
    for element in elements:
        for galaxy in element.get("Galaxy") or () if isinstance(element, Mapping) else ():
            for cluster in galaxy.get("GalaxyCluster") or () if isinstance(galaxy, dict) else ():
                if isinstance(cluster, dict) and cluster.get("uuid"):
                    found.add(str(cluster["uuid"]))
    return found


def _repaired(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with what misp-stix cannot take repaired: galaxy clusters without a uuid."""
    fixed = dict(event)
    galaxies = []
    for galaxy in event.get("Galaxy") or ():
        if not isinstance(galaxy, dict):
            continue
        clusters = []
        for cluster in galaxy.get("GalaxyCluster") or ():
            if isinstance(cluster, dict) and not cluster.get("uuid"):
                seed = str(
                    cluster.get("tag_name") or f"{cluster.get('type')}|{cluster.get('value')}"
                )
                cluster = {**cluster, "uuid": str(uuid.uuid5(_REPAIR_NAMESPACE, seed))}
            clusters.append(cluster)
        galaxies.append({**galaxy, "GalaxyCluster": clusters})
    if "Galaxy" in event:
        fixed["Galaxy"] = galaxies
    return fixed


def _fixed(marking_id: str) -> bool:
    """A well-known definition the node holds fixed: misp-stix's copies of them are dropped."""
    return marking_id in FIXED or marking_id in STANDARD_EXTENSIONS


def _uuid_of(stix_id: str) -> str:
    return stix_id.split("--", 1)[1] if "--" in stix_id else stix_id


def _apply(
    stix: list[dict[str, Any]],
    event_refs: set[str],
    own: Mapping[str, set[str]],
    consumed: set[str],
    party_ids: set[str],
) -> list[dict[str, Any]]:
    """Put the event's and each element's markings on every object; drop what is replaced."""
    kept = [
        o
        for o in stix
        if not (o.get("type") == "marking-definition" and _fixed(str(o.get("id"))))
        and not (o.get("type") == "identity" and o.get("id") in party_ids)
    ]
    element: dict[str, set[str]] = {}
    for o in kept:
        refs = own.get(_uuid_of(str(o.get("id"))))
        if refs is not None:
            element[o["id"]] = set(refs)
    # An element's handling is its own: another element referencing it lends it nothing.
    element_ids = frozenset(element)
    # What an element's object references (its SCOs, a relationship's ends) takes its handling;
    # a few passes reach SCOs referenced through other SCOs.
    for _ in range(3):
        inherited: dict[str, set[str]] = {}
        for o in kept:
            oid = o["id"]
            if o.get("type") == "relationship" and oid not in element:
                for end in (o.get("source_ref"), o.get("target_ref")):
                    inherited.setdefault(oid, set()).update(element.get(str(end), ()))
                continue
            if o.get("type") in _CONTAINERS or oid not in element:
                continue
            # Its author (``created_by_ref``) takes nothing from it: the handling of an object
            # is its own (DESIGN.md), and the author identity is shared by every event.
            for ref in references(o, authorship=False):
                if ref != oid and ref not in element_ids:
                    inherited.setdefault(ref, set()).update(element[oid])
        changed = False
        for oid, refs in inherited.items():
            before = element.get(oid, set())
            if not refs <= before:
                element[oid] = before | refs
                changed = True
        if not changed:
            break
    # The event's author: an identity that misp-stix made for the event's creator organisation,
    # not for an attribute or object of the event (a person, an organisation named as content).
    authors = {o.get("created_by_ref") for o in kept}
    own_ids = {o["id"] for o in kept if _uuid_of(str(o.get("id"))) in own}
    out = []
    for o in kept:
        o = dict(o)
        marks = {m for m in o.get("object_marking_refs") or () if m not in WELL_KNOWN_TLP}
        if o.get("type") == "marking-definition":
            marks = set()  # misp-stix's own definitions (ACS): left as they are
        elif o["id"] not in authors or o["id"] in own_ids:
            # Everything but the author: its identity is one object shared by every event of
            # that organisation, so no event lends it its handling (the node's default TLP).
            marks |= event_refs | element.get(o["id"], set())
        if marks:
            o["object_marking_refs"] = sorted(marks)
        labels = [label for label in o.get("labels") or () if label not in consumed]
        if "labels" in o:
            if labels:
                o["labels"] = labels
            else:
                del o["labels"]
        out.append(o)
    return out


# ---- export ----


@contextmanager
def _quiet_misp_stix() -> Iterator[None]:
    """misp-stix logs a warning per MISP-made bundle it reads back; kizuna's report says enough."""
    logger = logging.getLogger("misp_stix_converter")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def export_events(
    node: Node, recipient: Party, *, preview: bool = False, tally: export.Tally | None = None
) -> dict[str, Any]:
    """What ``recipient`` receives, as MISP events ``{"response": [{"Event": …}, …]}``: a
    release (written to the ledger), or with ``preview`` only what it would receive."""
    chosen = export.chosen(node, recipient, preview=preview, tally=tally)
    released = [orjson.loads(r.content) for r in chosen]
    with _quiet_misp_stix():
        events = list(events_for(released, node, recipient))
    return {"response": [{"Event": e} for e in events]}


def events_for(
    released: list[dict[str, Any]], node: Node, recipient: Party
) -> Iterator[dict[str, Any]]:
    """MISP events for released STIX objects: one per grouping or report, one for the rest."""
    definitions = {o["id"]: o for o in released if o.get("type") == "marking-definition"}
    default_tlp = str(node.settings()["default_tlp"])
    handling = {
        o["id"]: handling_of(o, definitions.get)
        for o in released
        if o.get("type") != "marking-definition"
    }
    plain = [_unmarked(o) for o in released if _for_misp(o)]
    by_id = {o["id"]: o for o in plain}
    grouped: set[str] = set()
    groups: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]] = []
    for o in plain:
        if o["type"] in ("grouping", "report"):
            members = [o, *_members(o, by_id)]
            grouped.update(m["id"] for m in members)
            groups.append((o, members))
    rest = [o for o in plain if o["id"] not in grouped]
    if rest:
        groups.append((None, [*rest, *_identities(rest, by_id)]))
    org = node.home_party.id.split("--", 1)[1]
    title = f"Objects outside any report, released by {node.home_party.name} to {recipient.name}"
    for container, members in groups:
        event = _to_misp(members, container, org, title)
        if event is not None:
            _tag(event, container, handling, default_tlp)
            yield event


def _for_misp(o: Mapping[str, Any]) -> bool:
    t = str(o.get("type"))
    return t != "marking-definition" and not t.startswith("x-kizuna-")


def _unmarked(o: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without markings: kizuna writes handling back as tags itself (see ``_tag``)."""
    return {k: v for k, v in o.items() if k not in ("object_marking_refs", "granular_markings")}


def _members(container: Mapping[str, Any], by_id: Mapping[str, dict[str, Any]]) -> list[Any]:
    seen: dict[str, dict[str, Any]] = {}
    queue = [r for r in container.get("object_refs") or () if isinstance(r, str)]
    creator = container.get("created_by_ref")
    if isinstance(creator, str):
        queue.append(creator)
    while queue:
        ref = queue.pop()
        if ref in seen or ref not in by_id or ref == container.get("id"):
            continue
        obj = by_id[ref]
        seen[ref] = obj
        queue.extend(r for r in references(obj) if r not in seen)
    return list(seen.values())


def _identities(objs: Iterable[Mapping[str, Any]], by_id: Mapping[str, Any]) -> list[Any]:
    wanted = {o.get("created_by_ref") for o in objs} - {o.get("id") for o in objs}
    return [by_id[i] for i in sorted(str(w) for w in wanted if w in by_id)]


def _to_misp(
    members: list[dict[str, Any]],
    container: Mapping[str, Any] | None,
    org: str,
    title: str,
) -> dict[str, Any] | None:
    _load_misp_stix()
    from misp_stix_converter.tools import get_stix2_parser, is_stix2_from_misp, load_stix2_content

    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": members}
    try:
        loaded = load_stix2_content(bundle)
        parser_class, args = get_stix2_parser(
            from_misp=is_stix2_from_misp(members),
            distribution=0,
            sharing_group_id=None,
            title=None if container else title,
            producer=None,
            force_contextual_data=False,
            galaxies_as_tags=False,
            single_event=True,
            organisation_uuid=org,
            cluster_distribution=0,
            cluster_sharing_group_id=None,
        )
        parser = parser_class()
        parser.load_stix_bundle(loaded)
        parser.parse_stix_bundle(**args)
        event: dict[str, Any] = orjson.loads(parser.misp_event.to_json())
    except Exception as exc:  # misp-stix raises many kinds
        where = container.get("id") if container else "objects outside any report"
        log.warning("misp export", extra={"where": where, "error": str(exc)})
        return None
    return event


def _tags(h: Handling | None, default_tlp: str) -> tuple[list[str], int]:
    if h is None:
        return mh.tags_for(default_tlp, None, None, None), mh.distribution_for(default_tlp, False)
    tlp = h.tlp or default_tlp
    restricted = h.restricted or h.embargo is not None
    tags = mh.tags_for(tlp, h.pap, h.classification, h.release_rule, h.iep, bool(h.unresolved))
    return tags, mh.distribution_for(tlp, restricted)


def _tag(
    event: dict[str, Any],
    container: Mapping[str, Any] | None,
    handling: Mapping[str, Handling],
    default_tlp: str,
) -> None:
    """Write kizuna's handling back into a MISP event as tags and distributions."""
    if container is not None:
        event_tags, event_distribution = _tags(handling.get(container["id"]), default_tlp)
    else:
        event_tags, event_distribution = [], 0
    _add_tags(event, event_tags)
    event["distribution"] = str(event_distribution)
    by_uuid: dict[str, Handling] = {_uuid_of(k): v for k, v in handling.items()}
    elements = list(event.get("Attribute") or ()) + list(event.get("Object") or ())
    for element in elements:
        h = by_uuid.get(str(element.get("uuid")))
        tags, distribution = _tags(h, default_tlp)
        _add_tags(element, [t for t in tags if t not in event_tags])
        element["distribution"] = str(distribution if distribution < event_distribution else 5)
        for attr in element.get("Attribute") or ():
            attr["distribution"] = "5"


def _add_tags(element: dict[str, Any], names: Iterable[str]) -> None:
    tags = list(element.get("Tag") or ())
    have = {t.get("name") for t in tags if isinstance(t, dict)}
    for name in names:
        if name not in have:
            tags.append({"name": name})
    if tags:
        element["Tag"] = tags


def misp_json(
    node: Node, recipient: Party, *, preview: bool = False, tally: export.Tally | None = None
) -> bytes:
    """The MISP export as JSON bytes (indented: MISP users read these files)."""
    events = export_events(node, recipient, preview=preview, tally=tally)
    return orjson.dumps(events, option=orjson.OPT_INDENT_2)
