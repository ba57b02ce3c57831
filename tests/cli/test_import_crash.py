"""Crash safety of ``kizuna import``: SIGKILL half-way through a large file, then run it again.

Afterwards the database passes ``PRAGMA integrity_check``, every stored object is whole (the
same JSON value as in the file, valid, with its handling), and running the import again stores
the rest: stored + unchanged = every object in the file.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from kizuna.core.stix.validate import validate
from kizuna.services.node import init_node

pytestmark = pytest.mark.slow

TOTAL = 8_000
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def indicator(n: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'import-crash/{n}')}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"crash test {n}",
        "pattern": f"[ipv4-addr:value = '10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [AMBER],
    }


def kizuna(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from kizuna.cli.main import main; main()", "--home", str(home),
         *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(
                conn.execute("SELECT count(*) FROM objects WHERE type='indicator'").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


def test_a_killed_import_leaves_whole_objects_and_can_be_finished(tmp_path: Path) -> None:
    home = tmp_path / "node"
    init_node(home, party_name="CERT-EU", jurisdiction="EU", kind="csirt").close()
    objs = {o["id"]: o for o in (indicator(n) for n in range(TOTAL))}
    source = tmp_path / "big.ndjson"
    source.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objs.values()))
    db = home / "kizuna.db"

    process = kizuna(home, "import", "--quiet", str(source))
    try:
        deadline = time.monotonic() + 120
        while count(db) < 500 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert process.poll() is None, "the import finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute(
            "SELECT id, content, handling FROM objects WHERE type='indicator'"
        ).fetchall()
    assert 0 < len(rows) < TOTAL, "kill the import while it is still running"
    for oid, content, handling in rows:
        obj = orjson.loads(content)
        assert obj == objs[oid]
        validate(obj)
        assert orjson.loads(handling)["tlp"] == "amber"

    # Run it again: it finishes, and no object is stored twice (a resumed import skips what
    # its journal says is done; anything read again is reported unchanged).
    stored, unchanged = finish(home, "import", "--quiet", str(source))
    assert stored == TOTAL - len(rows)
    assert stored + unchanged <= TOTAL
    assert count(db) == TOTAL
    # Reading the whole file once more stores nothing: stored + unchanged = every object.
    help_text = kizuna(home, "import", "--help").communicate(timeout=60)[0].decode()
    if "--restart" in help_text:
        assert finish(home, "import", "--quiet", "--restart", str(source)) == (0, TOTAL)
    assert count(db) == TOTAL


def finish(home: Path, *args: str) -> tuple[int, int]:
    """Run kizuna to the end; (stored, unchanged) from its summary, with no failure."""
    process = kizuna(home, *args)
    out, _ = process.communicate(timeout=300)
    text = out.decode()
    assert process.returncode == 0, text
    assert "Traceback" not in text
    found = re.search(r"([\d,]+) stored, ([\d,]+) unchanged, ([\d,]+) failed", text)
    assert found, text
    stored, unchanged, failures = (int(g.replace(",", "")) for g in found.groups())
    assert failures == 0, text
    return stored, unchanged
