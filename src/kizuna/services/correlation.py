"""Correlation: observations matched against every indicator the node holds, and sightings.

The index (``core.patterns.PatternIndex``) lives in memory per process and catches up with the
store by ``date_added`` before each use: new indicators and revisions are indexed, revoked
ones removed; ``valid_until`` is honoured at match time. Each match produces or updates the
node's sighting of the indicator, which goes back to the indicator's originator through the
gate like any other object. Values on MISP warning lists are flagged, never dropped.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import func, select

from kizuna.core.observables import observables_of, observed_data
from kizuna.core.patterns import (
    InvalidPattern,
    PatternIndex,
    compile_pattern,
    observation_from_stix,
    observations_from_stix,
)
from kizuna.core.patterns.observation import Observation
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.core.taxii import Filters
from kizuna.core.warninglists import values_of
from kizuna.errors import KizunaError
from kizuna.services import ingest, warninglists
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.schema import objects as objects_table

CORRELATION_EXTENSION = "extension-definition--5c4e2c61-2f86-4d3a-9b4f-0c6a3e1d8f27"
_SIGHTINGS = uuid.UUID("b9e0f0d4-1d5e-4d8e-9a4a-3c2f4e6b7a10")
_OBSERVED_REFS_KEPT = 50


@dataclass
class _IndexState:
    index: PatternIndex = field(default_factory=PatternIndex)
    position: int = 0  # date_added up to which indicators are indexed
    count: int = 0  # indicator versions at or below ``position`` when last looked
    modified: dict[str, int] = field(default_factory=dict)  # the indexed version of each id
    lock: threading.Lock = field(default_factory=threading.Lock)


def _count(node: Node, upto: int) -> int:
    with node.db.read() as conn:
        q = select(func.count()).where(
            objects_table.c.type == "indicator", objects_table.c.date_added <= upto
        )
        return int(conn.execute(q).scalar_one())


def index(node: Node) -> PatternIndex:
    """The node's indicator index, brought up to date with the store."""
    st: _IndexState = node.cache.setdefault("patterns", _IndexState())
    with st.lock:
        if st.position and _count(node, st.position) < st.count:
            st.index, st.position, st.count = PatternIndex(), 0, 0  # versions were deleted: rebuild
            st.modified.clear()
        filters = Filters(types=("indicator",), versions=("all",))
        while True:
            with node.db.read() as conn:
                rows = store.scan(conn, filters, st.position, 5000)
            for row in rows:
                st.position = row.date_added
                st.count += 1
                if row.modified < st.modified.get(row.id, -1):
                    continue  # an older version arriving late: the newer one stays indexed
                st.modified[row.id] = row.modified
                _index_one(st.index, orjson.loads(row.content))
            if len(rows) < 5000:
                return st.index


def _index_one(idx: PatternIndex, obj: dict[str, Any]) -> None:
    oid = obj["id"]
    if obj.get("revoked") or obj.get("pattern_type") != "stix":
        idx.remove(oid)
        return
    try:
        compiled = compile_pattern(obj["pattern"])
    except InvalidPattern:
        idx.remove(oid)  # refused at ingest since correlation exists; older rows may hold one
        return
    until = obj.get("valid_until")
    idx.add(
        oid, compiled, parse_timestamp(obj["valid_from"]), parse_timestamp(until) if until else None
    )


@dataclass(frozen=True)
class Match:
    """One indicator matched by one observation."""

    indicator_id: str
    observed_data_id: str
    values: tuple[tuple[str, str], ...]  # (kind, value) of what the observation held
    likely_benign: tuple[tuple[str, str], ...]  # (value, warning list)
    given: str | None = None  # the value as given, when the observation is of one value

    @property
    def shown(self) -> str:
        """What matched, as a person would say it: the value given, or the values observed."""
        return self.given or ", ".join(v for _, v in self.values)


def match(
    node: Node,
    observations: Sequence[tuple[str, Observation]],
    now_us: int | None = None,
    *,
    text: str | None = None,
) -> list[Match]:
    """Match observations (observed-data id, observation) against every indicator held;
    ``text`` is the value as the analyst gave it, when the observation is of one value."""
    idx = index(node)
    now = node.now() if now_us is None else now_us
    lists = warninglists.for_node(node)
    out: list[Match] = []
    for observed_id, observation in observations:
        found = idx.match(observation, now)
        if not found:
            continue
        values = tuple(dict.fromkeys(v for o in observation.objects.values() for v in values_of(o)))
        benign = tuple((value, name) for kind, value in values for name in lists.check(kind, value))
        out.extend(Match(i, observed_id, values, benign, text) for i in sorted(found))
    return out


def observe(node: Node, objects: Iterable[dict[str, Any]]) -> list[Match]:
    """Correlate objects that just arrived (observed-data and their SCOs) and record sightings."""
    objects = list(objects)
    if not any(o.get("type") == "observed-data" for o in objects):
        return []
    try:
        observations = observations_from_stix(_with_referenced(node, objects))
    except KizunaError:
        return []
    observed = [o for o in objects if o.get("type") == "observed-data"]
    matches = match(node, list(zip([o["id"] for o in observed], observations, strict=True)))
    matches = _not_self(node, objects, matches)
    if matches:
        record_sightings(node, matches)
    return matches


def _not_self(node: Node, objects: list[dict[str, Any]], matches: list[Match]) -> list[Match]:
    """The matches that are sightings: an object never sights itself or its own event.

    misp-stix turns a ``to_ids`` attribute into an indicator *and* an observed-data of the same
    value (same uuid), and a producer's event lists its observables beside its indicators:
    neither is anyone observing anything. A match is dropped when the observation and the
    indicator are one element (same uuid), arrived together (one event, one batch), or have
    the same author other than the home party (a producer restating its own indicator); the
    home party's own observations (``kizuna match``) always count.
    """
    if not matches:
        return matches
    home = node.home_party.id
    batch = {o.get("id") for o in objects if o.get("type") == "indicator"}
    authors = {o.get("id"): o.get("created_by_ref") for o in objects}
    with node.db.read() as conn:
        held = store.latest(conn, {m.indicator_id for m in matches} - batch)
    for v in held.values():
        authors[v.id] = orjson.loads(v.content).get("created_by_ref")
    kept = []
    for m in matches:
        seer = authors.get(m.observed_data_id)
        if (
            m.indicator_id in batch
            or m.indicator_id.split("--")[1] == (m.observed_data_id.split("--")[1])
        ):
            continue
        if seer is not None and seer != home and seer == authors.get(m.indicator_id):
            continue
        kept.append(m)
    return kept


def _with_referenced(node: Node, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch plus the stored SCOs its observed-data refer to but did not bring along."""
    have = {o.get("id") for o in objects}
    wanted = {
        r
        for o in objects
        if o.get("type") == "observed-data"
        for r in o.get("object_refs", ())
        if r not in have
    }
    if not wanted:
        return objects
    with node.db.read() as conn:
        found = store.latest(conn, wanted)
    return objects + [orjson.loads(v.content) for v in found.values()]


def match_objects(node: Node, objects: list[dict[str, Any]], *, sight: bool = True) -> list[Match]:
    """Match a bundle's observed-data (with their SCOs); with ``sight``, store it as the home
    party's observations, which records the sightings (ingest correlates what it stores)."""
    observed = [o for o in objects if o.get("type") == "observed-data"]
    observations = observations_from_stix(_with_referenced(node, objects))
    matches = match(node, list(zip([o["id"] for o in observed], observations, strict=True)))
    if matches and sight:
        for outcome in ingest.ingest(node, objects, submitter=node.home_party, path="import"):
            if outcome.error is not None:
                raise outcome.error
    return matches


def match_values(
    node: Node, values: Iterable[str], *, sight: bool = True
) -> tuple[list[Match], list[tuple[str, str]]]:
    """Match plain values (or SCOs) observed by the home party now.

    Each value is matched on its own, in the roles it may have played (``core.observables``),
    so an indicator written for a destination address, an e-mail sender or a domain|ip pair
    matches, and each match (with its warning-list flags) names only its own value. With
    ``sight``, the plain SCOs are stored as one observation and the sightings recorded.
    """
    found, bad = observables_of(values)
    if not found:
        return [], bad
    now = format_timestamp(node.now())
    scos = list({s["id"]: s for o in found for s in o.scos}.values())
    obs = observed_data(node.new_id("observed-data"), scos, node.home_party.id, now)
    matches: list[Match] = []
    for observable in found:
        objects = observable.objects
        one = {**obs, "object_refs": [o["id"] for o in objects]}
        observation = observation_from_stix(one, {o["id"]: o for o in objects})
        matches.extend(match(node, [(obs["id"], observation)], text=observable.text))
    if matches and sight:
        # Stored as the home party's observation (its plain SCOs only: the roles are readings);
        # the sightings are recorded here, from the matches above.
        stored = ingest.ingest(
            node, [*scos, obs], submitter=node.home_party, path="import", correlate=False
        )
        for outcome in stored:
            if outcome.error is not None:
                raise outcome.error
        record_sightings(node, matches)
    return matches, bad


def sighting_id(node: Node, indicator_id: str) -> str:
    """One sighting per indicator per node, updated as matches accumulate."""
    return f"sighting--{uuid.uuid5(_SIGHTINGS, f'{node.home_party.id}|{indicator_id}')}"


def record_sightings(node: Node, matches: Sequence[Match]) -> list[dict[str, Any]]:
    """Create or update the sightings of the matched indicators (new versions)."""
    by_indicator: dict[str, list[Match]] = {}
    for m in matches:
        by_indicator.setdefault(m.indicator_id, []).append(m)
    ids = {i: sighting_id(node, i) for i in by_indicator}
    with node.db.read() as conn:
        current = store.latest(conn, ids.values())
        indicators = store.latest(conn, by_indicator)
    now = node.now()
    stamp = format_timestamp(now)
    out = []
    for indicator_id, found in by_indicator.items():
        sid = ids[indicator_id]
        before = orjson.loads(current[sid].content) if sid in current else None
        observed = [m.observed_data_id for m in found if _is_ours(node, m.observed_data_id)]
        refs = list(dict.fromkeys([*(before or {}).get("observed_data_refs", []), *observed]))
        benign = sorted({f"{v} ({name})" for m in found for v, name in m.likely_benign})
        if before is not None:
            benign = sorted(
                set(benign)
                | set(
                    before.get("extensions", {})
                    .get(CORRELATION_EXTENSION, {})
                    .get("likely_benign", [])
                )
            )
        modified = (
            stamp
            if before is None
            else format_timestamp(max(now, parse_timestamp(before["modified"]) + 1000))
        )
        sighting: dict[str, Any] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": sid,
            "created": before["created"] if before else stamp,
            "modified": modified,
            "created_by_ref": node.home_party.id,
            "sighting_of_ref": indicator_id,
            "first_seen": before["first_seen"] if before else stamp,
            "last_seen": stamp,
            "count": (before or {}).get("count", 0) + len(found),
            "where_sighted_refs": [node.home_party.id],
        }
        if refs[-_OBSERVED_REFS_KEPT:]:
            sighting["observed_data_refs"] = refs[-_OBSERVED_REFS_KEPT:]
        if benign:
            sighting["extensions"] = {
                CORRELATION_EXTENSION: {
                    "extension_type": "property-extension",
                    "likely_benign": benign,
                }
            }
        if indicator_id in indicators:
            sighting["object_marking_refs"] = _markings_of(indicators[indicator_id])
        out.append({k: v for k, v in sighting.items() if v != []})
    ingest.ingest(node, out, submitter=node.home_party, path="import")
    return out


def _is_ours(node: Node, observed_id: str) -> bool:
    # Only observations the home party made are named in its sightings: rule 7 would withhold
    # a sighting that names a partner's observation from anyone who may not see that.
    with node.db.read() as conn:
        held = store.latest(conn, [observed_id]).get(observed_id)
    return held is not None and held.source == node.home_party.id


def _markings_of(indicator: store.StoredVersion) -> list[str]:
    """A sighting goes back where the indicator came from: it carries the indicator's TLP."""
    markings = orjson.loads(indicator.content).get("object_marking_refs") or []
    from kizuna.core.markings import WELL_KNOWN_TLP

    return [m for m in markings if m in WELL_KNOWN_TLP]
