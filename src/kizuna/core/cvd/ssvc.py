"""SSVC decisions from CERT/CC's official decision tables (CERTCC/SSVC ``data/csv``).

A table is a CSV: a ``row`` column, one column per decision point (``Name vX.Y.Z``) and the
outcome last. A decision is the row whose decision-point values equal the inputs, exactly as
the official table says: nothing is computed by hand. The table's name and version (from its
file name, e.g. ``coordinator_triage_1_0_0``) and every decision point's version are stored
with the decision.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kizuna.errors import InvalidInput

_HEADER = re.compile(r"^(?P<name>.+?) v(?P<version>\d+\.\d+\.\d+)(?: \((?P<ns>[^)]*)\))?$")
_FILE = re.compile(r"^(?P<name>[a-z_]+?)_(?P<version>\d+_\d+_\d+)$")
# Short names for the tables (file stem -> kizuna name).
TABLES: dict[str, str] = {
    "coordinator_triage_1_0_0": "coordinator-triage",
    "coordinator_publish_decision_table_1_0_0": "coordinator-publication",
    "supplier_patch_development_priority_1_0_0": "supplier",
    "deployer_patch_application_priority_1_0_0": "deployer",
    "cisa_coordinator_2_0_3": "cisa",
    "human_impact_1_0_0": "human-impact",
    "public_safety_impact_1_0_0": "public-safety-impact",
    "utility_1_0_0": "utility",
}


def _key(name: str) -> str:
    """A decision point's name as an input key: ``Public Safety Impact``, public-safety-impact."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class DecisionPoint:
    key: str
    name: str
    version: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str  # kizuna's short name
    source: str  # the official file stem
    version: str
    inputs: tuple[DecisionPoint, ...]
    outcome: DecisionPoint
    rows: Mapping[tuple[str, ...], str]

    def decide(self, given: Mapping[str, str]) -> Decision:
        """The official row for these inputs; an error names a missing, unknown or bad input."""
        unknown = sorted(set(given) - {p.key for p in self.inputs})
        if unknown:
            raise InvalidInput(
                f"SSVC {self.name}: unknown decision point(s) {', '.join(unknown)}; "
                f"it takes {', '.join(p.key for p in self.inputs)}",
                code="invalid-ssvc",
            )
        values = []
        for p in self.inputs:
            if p.key not in given:
                raise InvalidInput(
                    f"SSVC {self.name}: {p.key} is missing (one of {', '.join(p.values)})",
                    code="invalid-ssvc",
                )
            v = str(given[p.key]).strip().lower()
            if v not in p.values:
                raise InvalidInput(
                    f"SSVC {self.name}: {p.key} {given[p.key]!r} is not one of "
                    f"{', '.join(p.values)}",
                    code="invalid-ssvc",
                )
            values.append(v)
        outcome = self.rows.get(tuple(values))
        if outcome is None:
            raise InvalidInput(
                f"SSVC {self.name}: the official table has no row for {values}",
                code="invalid-ssvc",
            )
        return Decision(
            self.name,
            self.source,
            self.version,
            tuple(
                (p.key, f"{p.name} v{p.version}", v)
                for p, v in zip(self.inputs, values, strict=True)
            ),
            outcome,
        )


@dataclass(frozen=True)
class Decision:
    table: str
    source: str
    table_version: str
    inputs: tuple[tuple[str, str, str], ...]  # (key, "Name vX", value)
    outcome: str

    def to_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "source": self.source,
            "table_version": self.table_version,
            "inputs": {k: v for k, _, v in self.inputs},
            "decision_points": {k: named for k, named, _ in self.inputs},
            "outcome": self.outcome,
        }


def parse_table(stem: str, text: str) -> Table:
    """Parse one official CSV (``stem``: its file name without ``.csv``)."""
    m = _FILE.match(stem)
    if m is None:
        raise ValueError(f"{stem}: not an SSVC table file name")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if header[0] != "row" or len(header) < 3:
        raise ValueError(f"{stem}: the first column must be 'row'")
    points = []
    for col in header[1:]:
        h = _HEADER.match(col.strip())
        if h is None:
            raise ValueError(f"{stem}: column {col!r} is not 'Name vX.Y.Z'")
        points.append((h["name"], h["version"]))
    body = [r for r in reader if r]
    values: list[list[str]] = [[] for _ in points]
    rows: dict[tuple[str, ...], str] = {}
    for r in body:
        cells = [c.strip().lower() for c in r[1:]]
        for i, c in enumerate(cells):
            if c not in values[i]:
                values[i].append(c)
        rows[tuple(cells[:-1])] = cells[-1]
    dps = tuple(DecisionPoint(_key(n), n, v, tuple(values[i])) for i, (n, v) in enumerate(points))
    return Table(
        TABLES.get(stem, stem),
        stem,
        m["version"].replace("_", "."),
        dps[:-1],
        dps[-1],
        rows,
    )
