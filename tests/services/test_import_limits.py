"""Imports refuse nesting no parser should build, naming the limit; a node's files are private."""

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


def test_the_node_folder_key_and_database_files_are_private(sqlite_node: Node) -> None:
    """0700 for the folder, 0600 for the key, kizuna.db and its -wal and -shm files."""
    home = sqlite_node.home
    with sqlite_node.db.write() as conn:
        conn.exec_driver_sql("SELECT 1")  # the WAL files exist while a connection is open
    assert home.stat().st_mode & 0o777 == 0o700
    files = [home / "node.key", home / "kizuna.db", home / "kizuna.db-wal", home / "kizuna.db-shm"]
    for path in files:
        assert path.exists(), path
        assert path.stat().st_mode & 0o777 == 0o600, (path, oct(path.stat().st_mode))
