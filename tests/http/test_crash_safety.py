"""Crash safety of ``kizuna serve`` on SQLite: SIGKILL and SIGTERM in the middle of TAXII POSTs.

A thread posts envelopes while the server is killed. Afterwards every object whose POST was
acknowledged (202, its id among the successes) is stored as the same JSON value, the database
passes ``PRAGMA integrity_check``, every stored object is whole (its content valid, its handling
present), and each envelope is stored all or nothing (ingest writes a batch in one transaction).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from stix_factory import INBOX_URL, indicator

from kizuna.core.stix.validate import validate
from kizuna.core.taxii import MEDIA_TAXII
from kizuna.services import parties, tokens
from kizuna.services.node import init_node

pytestmark = pytest.mark.slow

PER_ENVELOPE = 40


@dataclass
class Node:
    home: Path
    token: str
    party_id: str


@pytest.fixture
def node_dir(tmp_path: Path) -> Node:
    home = tmp_path / "node"
    node = init_node(home, party_name="CERT-EU", jurisdiction="EU", kind="csirt", scheme="EU")
    try:
        bsi = parties.add_party(node, "BSI", jurisdiction="DE", kind="government", scheme="DE")
        token = tokens.create(node, bsi.id).value
    finally:
        node.close()
    return Node(home, token, bsi.id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def serve(node: Node, log: Path) -> Served:
    """``kizuna serve`` in a process of its own; returns once it answers."""
    port = free_port()
    out = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-c", "from kizuna.cli.main import main; main()",
         "--home", str(node.home), "serve", "--port", str(port), "--log-level", "warning"],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    out.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kizuna serve exited: {log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Served(process, url, log)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"kizuna serve did not start: {log.read_text()}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Served]]:
    """Every server a test starts, killed (by its pid) if the test did not end it."""
    started: list[Served] = []
    yield started
    for s in started:
        if s.process.poll() is None:
            s.process.kill()
        s.process.wait(timeout=10)


@dataclass
class Poster:
    """Posts envelopes in a thread until the server goes away."""

    url: str
    node: Node
    sent: list[list[dict[str, Any]]] = field(default_factory=list)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        headers = {
            "Authorization": f"Bearer {self.node.token}",
            "Content-Type": MEDIA_TAXII,
            "Accept": MEDIA_TAXII,
        }
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=30) as http:
                n = 0
                while not self.stop.is_set():
                    batch = [
                        indicator(f"crash-{n}-{i}", created_by=self.node.party_id, tlp="amber")
                        for i in range(PER_ENVELOPE)
                    ]
                    n += 1
                    self.sent.append(batch)
                    try:
                        r = http.post(
                            INBOX_URL + "objects/", content=orjson.dumps({"objects": batch})
                        )
                    except httpx.TransportError:
                        return  # the server died with this POST in flight: not acknowledged
                    if r.status_code != 202:
                        raise AssertionError(f"{r.status_code}: {r.text}")
                    ok = {s["id"] for s in r.json().get("successes", [])}
                    assert ok == {o["id"] for o in batch}
                    self.acknowledged.extend(batch)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc


def post_until(served: Served, node: Node, envelopes: int) -> tuple[Poster, threading.Thread]:
    poster = Poster(served.url, node)
    thread = threading.Thread(target=poster.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while len(poster.acknowledged) < envelopes * PER_ENVELOPE and time.monotonic() < deadline:
        assert thread.is_alive() or poster.error is None, poster.error
        time.sleep(0.01)
    assert len(poster.acknowledged) >= envelopes * PER_ENVELOPE, "posting was too slow"
    return poster, thread


def stored_rows(home: Path) -> dict[str, tuple[bytes, str]]:
    """id -> (content, handling) of every stored version, read with sqlite3 directly."""
    db = sqlite3.connect(f"file:{home / 'kizuna.db'}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute("SELECT id, content, handling FROM objects").fetchall()
    finally:
        db.close()
    out: dict[str, tuple[bytes, str]] = {}
    for oid, content, handling in rows:
        assert oid not in out, f"{oid} stored twice"
        out[oid] = (bytes(content), handling)
    return out


def check_after_crash(node: Node, poster: Poster, url: str) -> None:
    rows = stored_rows(node.home)
    # Every stored object is whole: valid content, its handling computed and present.
    for oid, (content, handling) in rows.items():
        obj = orjson.loads(content)
        assert obj["id"] == oid
        validate(obj)
        assert orjson.loads(handling) is not None and handling.strip()
    # Every acknowledged object is there, as the same JSON value.
    for obj in poster.acknowledged:
        assert obj["id"] in rows, f"acknowledged but lost: {obj['id']}"
        assert orjson.loads(rows[obj["id"]][0]) == obj
    # Each envelope is stored whole or not at all.
    for batch in poster.sent:
        present = [o["id"] in rows for o in batch]
        assert all(present) or not any(present), "an envelope was stored half-way"
    # And the restarted server serves them.
    headers = {"Authorization": f"Bearer {node.token}", "Accept": MEDIA_TAXII}
    got: dict[str, Any] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        params: dict[str, Any] = {"limit": 1000}
        while True:
            page = http.get(INBOX_URL + "objects/", params=params).json()
            got.update((o["id"], o) for o in page.get("objects", []))
            if not page["more"]:
                break
            params["next"] = page["next"]
    for obj in poster.acknowledged:
        assert got[obj["id"]] == obj


def test_sigkill_in_the_middle_of_posts_loses_no_acknowledged_write(
    node_dir: Node, servers: list[Served], tmp_path: Path
) -> None:
    first = serve(node_dir, tmp_path / "serve.log")
    servers.append(first)
    poster, thread = post_until(first, node_dir, envelopes=15)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    thread.join(timeout=30)
    assert poster.error is None, poster.error
    assert first.process.returncode == -signal.SIGKILL
    second = serve(node_dir, tmp_path / "serve.log")
    servers.append(second)
    check_after_crash(node_dir, poster, second.url)
    # The node takes writes again after the crash.
    again, thread = post_until(second, node_dir, envelopes=1)
    again.stop.set()
    thread.join(timeout=30)
    assert again.error is None, again.error


def test_sigterm_shuts_down_cleanly_without_losing_acknowledged_writes(
    node_dir: Node, servers: list[Served], tmp_path: Path
) -> None:
    first = serve(node_dir, tmp_path / "serve.log")
    servers.append(first)
    poster, thread = post_until(first, node_dir, envelopes=10)
    first.process.send_signal(signal.SIGTERM)
    code = first.process.wait(timeout=30)
    thread.join(timeout=30)
    assert poster.error is None, poster.error
    log = first.log.read_text()
    assert code == 0, f"exit code {code}: {log}"
    assert "Traceback" not in log
    second = serve(node_dir, tmp_path / "serve.log")
    servers.append(second)
    check_after_crash(node_dir, poster, second.url)
