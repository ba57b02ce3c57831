"""``PatternIndex``: find the indicators whose patterns an observation matches, without trying all.

Each indicator's pattern contributes its index keys (see ``keys``). For an observation, the index
reads from each object only the paths some key uses for that object type, looks the values up,
and stabs the CIDR blocks with each address; patterns without keys are always candidates.
Candidates inside their validity window (STIX 2.1 §4.7 ``valid_from``/``valid_until``) are then
evaluated in full. CIDR blocks never partly overlap, so the blocks containing an address are
found by one hash lookup per prefix length in use: O(prefix lengths), and add/remove stay O(keys).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from kizuna.core.patterns.addresses import parse_block
from kizuna.core.patterns.ast import Step
from kizuna.core.patterns.compiler import CompiledPattern
from kizuna.core.patterns.keys import TIMESTAMP, IndexKey, RangeKey, canonical
from kizuna.core.patterns.literals import parse_timestamp_us
from kizuna.core.patterns.observation import Observation
from kizuna.core.patterns.paths import resolve

_Key = TypeVar("_Key", bound=Hashable)

# family -> prefix length -> network -> indicator ids
Blocks = dict[int, dict[int, dict[int, set[str]]]]


@dataclass(slots=True)
class _PathTable:
    """The keys of one (object type, path): exact values and CIDR blocks."""

    values: dict[tuple[str, Hashable], set[str]] = field(default_factory=dict)
    blocks: Blocks = field(default_factory=dict)
    timestamp_keys: int = 0

    def empty(self) -> bool:
        return not self.values and not self.blocks


@dataclass(frozen=True, slots=True)
class _Entry:
    """One indexed indicator."""

    compiled: CompiledPattern
    valid_from_us: int
    valid_until_us: int | None

    def valid_at(self, now_us: int) -> bool:
        """Inside [valid_from, valid_until): not yet valid and expired indicators never match."""
        if now_us < self.valid_from_us:
            return False
        return self.valid_until_us is None or now_us < self.valid_until_us


class PatternIndex:
    """An in-memory index of compiled indicator patterns, updated one indicator at a time."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._tables: dict[str, dict[tuple[Step, ...], _PathTable]] = {}
        self._always: set[str] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._entries

    @property
    def always_evaluated(self) -> frozenset[str]:
        """Indicators without index keys, evaluated against every observation."""
        return frozenset(self._always)

    def add(
        self,
        indicator_id: str,
        compiled: CompiledPattern,
        valid_from_us: int,
        valid_until_us: int | None = None,
    ) -> None:
        """Index an indicator, replacing any earlier version of it (a revision)."""
        if indicator_id in self._entries:
            self.remove(indicator_id)
        self._entries[indicator_id] = _Entry(compiled, valid_from_us, valid_until_us)
        if compiled.keys is None:
            self._always.add(indicator_id)
            return
        for key in compiled.keys:
            self._add_key(indicator_id, key)

    def remove(self, indicator_id: str) -> bool:
        """Forget an indicator (revoked, or about to be revised); False if it was not indexed."""
        entry = self._entries.pop(indicator_id, None)
        if entry is None:
            return False
        if entry.compiled.keys is None:
            self._always.discard(indicator_id)
        else:
            for key in entry.compiled.keys:
                self._remove_key(indicator_id, key)
        return True

    def _add_key(self, indicator_id: str, key: IndexKey) -> None:
        table = self._tables.setdefault(key.object_type, {}).setdefault(key.steps, _PathTable())
        if isinstance(key, RangeKey):
            networks = table.blocks.setdefault(key.family, {}).setdefault(key.prefix, {})
            networks.setdefault(key.network, set()).add(indicator_id)
            return
        table.values.setdefault(key.value, set()).add(indicator_id)
        if key.value[0] == TIMESTAMP:
            table.timestamp_keys += 1

    def _remove_key(self, indicator_id: str, key: IndexKey) -> None:
        paths = self._tables[key.object_type]
        table = paths[key.steps]
        if isinstance(key, RangeKey):
            prefixes = table.blocks[key.family]
            networks = prefixes[key.prefix]
            _discard(networks, key.network, indicator_id)
            if not networks:
                del prefixes[key.prefix]
                if not prefixes:
                    del table.blocks[key.family]
        else:
            _discard(table.values, key.value, indicator_id)
            if key.value[0] == TIMESTAMP:
                table.timestamp_keys -= 1
        if table.empty():
            del paths[key.steps]
            if not paths:
                del self._tables[key.object_type]

    def candidates(self, observation: Observation) -> set[str]:
        """Indicators the observation may match: by key, plus those always evaluated."""
        found = set(self._always)
        objects = observation.objects
        tables = self._tables
        for obj in objects.values():
            paths = tables.get(str(obj.get("type")))
            if paths is None:
                continue
            for steps, table in paths.items():
                for value in resolve(obj, steps, objects):
                    _lookup(table, value, found)
        return found

    def match(self, observation: Observation, now_us: int) -> list[str]:
        """Ids of the indicators valid at ``now_us`` whose patterns the observation matches."""
        matched = []
        observations = (observation,)
        for indicator_id in self.candidates(observation):
            entry = self._entries[indicator_id]
            if entry.valid_at(now_us) and entry.compiled.matches(observations):
                matched.append(indicator_id)
        matched.sort()
        return matched


def _discard(table: dict[_Key, set[str]], key: _Key, indicator_id: str) -> None:
    """Remove an id from a key's set, dropping the set when it empties."""
    ids = table[key]
    ids.discard(indicator_id)
    if not ids:
        del table[key]


def _lookup(table: _PathTable, value: object, found: set[str]) -> None:
    """Add the indicators one selected value hits in one path table."""
    if table.values:
        key = canonical(value)
        if key is not None:
            ids = table.values.get(key)
            if ids:
                found |= ids
        if table.timestamp_keys and isinstance(value, str):
            try:
                moment = parse_timestamp_us(value)
            except ValueError:
                pass
            else:
                ids = table.values.get((TIMESTAMP, moment))
                if ids:
                    found |= ids
    if table.blocks and isinstance(value, str):
        block = parse_block(value)
        if block is not None:
            for prefix, networks in table.blocks.get(block.family, {}).items():
                ids = networks.get(block.network(prefix))
                if ids:
                    found |= ids
