"""SSVC: every row of every official CERT/CC table gives its own outcome, and the copies kizuna
ships are the official ones (``$KIZUNA_SHARED_DATA/ssvc``, skipped with the reason if absent)."""

from __future__ import annotations

import csv
import os
from importlib import resources
from pathlib import Path

import pytest

from kizuna.core.cvd.ssvc import TABLES, parse_table
from kizuna.errors import InvalidInput
from kizuna.services.cvd import ssvc_tables

SHIPPED = resources.files("kizuna") / "data" / "ssvc"
SHARED = Path(os.environ.get("KIZUNA_SHARED_DATA", "/nonexistent")) / "ssvc"


def official(stem: str) -> Path:
    path = SHARED / f"{stem}.csv"
    if not path.exists():
        pytest.skip(f"the official SSVC tables are not here ({SHARED}); set KIZUNA_SHARED_DATA")
    return path


@pytest.mark.parametrize("stem", sorted(TABLES))
def test_every_row_of_the_official_table_decides_as_the_table_says(stem: str) -> None:
    path = official(stem)
    assert path.read_bytes() == (SHIPPED / f"{stem}.csv").read_bytes()
    table = ssvc_tables()[TABLES[stem]]
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    assert len(body) == len(table.rows) > 0
    for row in body:
        given = {p.key: cell for p, cell in zip(table.inputs, row[1:-1], strict=True)}
        d = table.decide(given)
        assert d.outcome == row[-1].strip().lower(), (stem, row)
        assert [named for _, named, _ in d.inputs] == [h.strip() for h in header[1:-1]]
    assert table.version == stem.rsplit("_", 3)[-3] + "." + ".".join(stem.rsplit("_", 2)[-2:])


def test_the_tables_name_their_versions() -> None:
    t = ssvc_tables()["coordinator-triage"]
    assert t.version == "1.0.0" and t.outcome.name.startswith("Decline, Track, Coordinate")
    assert {p.key for p in t.inputs} >= {"report-public", "supplier-contacted", "utility"}


def test_a_missing_or_unknown_input_is_named() -> None:
    t = ssvc_tables()["coordinator-publication"]
    with pytest.raises(InvalidInput, match="supplier-involvement is missing"):
        t.decide({"exploitation": "none", "public-value-added": "limited"})
    with pytest.raises(InvalidInput, match="unknown decision point"):
        t.decide({"colour": "red"})


def test_a_malformed_table_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not 'Name vX\.Y\.Z'"):
        parse_table("x_1_0_0", "row,Exploitation,Outcome v1.0.0\n0,none,defer\n")
