"""Fixtures for the pattern tests: the shared real-data corpus, when it is present."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "KIZUNA_SHARED_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data"
    )
)


def _walk(obj: Any) -> Iterator[dict[str, Any]]:
    """Every indicator object nested anywhere in parsed JSON."""
    if isinstance(obj, dict):
        if obj.get("type") == "indicator" and isinstance(obj.get("pattern"), str):
            yield obj
        for value in obj.values():
            yield from _walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _walk(value)


def load_indicators(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file, indicator) for every indicator with a pattern in every JSON file under ``root``."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(root.rglob("*.json")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if '"pattern"' not in text:
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            continue  # a deliberately malformed file of the shared corpus
        found.extend((str(path.relative_to(root)), obj) for obj in _walk(data))
    return found


@pytest.fixture(scope="session")
def shared_indicators() -> list[tuple[str, dict[str, Any]]]:
    """Every indicator in the shared data; the test is skipped when the data is absent."""
    if not (SHARED_DATA / "stix").is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set KIZUNA_SHARED_DATA)")
    return load_indicators(SHARED_DATA)
