"""Imports refuse nesting no parser should build, in bounded memory, naming the limit."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from kizuna.services import bulk
from kizuna.services.node import Node

BUNDLE = b'{"type":"bundle","id":"bundle--6c1f0bd5-7b8a-4a7e-9f0e-3d0b6c6f1a11","objects":['


@pytest.mark.parametrize(
    ("levels", "reason"),
    [
        pytest.param(5_000_000, "nested deeper than 1024 levels", id="streamed"),
        pytest.param(1_000_000, "depth limit exceeded", id="parsed-whole"),
    ],
)
def test_a_file_nested_too_deep_is_refused_while_parsing(
    sqlite_node: Node, tmp_path: Path, levels: int, reason: str
) -> None:
    """Five million levels make a file over ``STREAM_ABOVE``: ijson would build them all."""
    path = tmp_path / "deep.json"
    path.write_bytes(BUNDLE + b"[" * levels + b"]" * levels + b"]}")
    assert (path.stat().st_size > bulk.STREAM_ABOVE) == (levels > 4_000_000)
    report = bulk.import_paths(sqlite_node, [path])
    (failure,) = report.failures
    assert reason in failure.reason and str(path) in failure.reason
    assert report.stored == 0


def test_an_ndjson_line_nested_too_deep_fails_alone(sqlite_node: Node, tmp_path: Path) -> None:
    ok = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--6c1f0bd5-7b8a-4a7e-9f0e-3d0b6c6f1a12",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "fine",
    }
    deep = {**ok, "id": "identity--6c1f0bd5-7b8a-4a7e-9f0e-3d0b6c6f1a13"}
    line = orjson.dumps(deep)[:-1] + b',"x_d":' + b'{"x_a":' * 300 + b"1" + b"}" * 300 + b"}"
    path = tmp_path / "objects.ndjson"
    path.write_bytes(line + b"\n" + orjson.dumps(ok) + b"\n")
    report = bulk.import_paths(sqlite_node, [path])
    assert report.stored == 1
    (failure,) = report.failures
    assert failure.id == deep["id"] and "max_object_depth" in failure.reason
