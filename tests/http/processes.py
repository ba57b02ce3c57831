"""``kizuna serve`` in processes of its own, for the tests of many processes on one node."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str


def kizuna(home: Path, database_url: str | None, *args: str) -> list[str]:
    """The command line of a kizuna command, and the environment that points it at the node."""
    return [sys.executable, "-c", "from kizuna.cli.main import main; main()",
            "--home", str(home), *args]  # fmt: skip


def environment(database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["KIZUNA_DATABASE_URL"] = database_url
    else:
        env.pop("KIZUNA_DATABASE_URL", None)
    return env


def serve(home: Path, database_url: str | None, log: Path, *extra: str) -> Served:
    """``kizuna serve`` (with ``extra`` options) in a process of its own, once it answers."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            kizuna(home, database_url, "serve", "--port", str(port), "--log-level", "warning",
                   *extra),
            stdout=out, stderr=subprocess.STDOUT, env=environment(database_url),
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kizuna serve exited: {log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Served(process, url)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"kizuna serve did not start: {log.read_text()}")


def run(home: Path, database_url: str | None, *args: str) -> str:
    """Run a kizuna command to its end; its output (it must succeed)."""
    done = subprocess.run(
        kizuna(home, database_url, *args),
        capture_output=True,
        env=environment(database_url),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@contextmanager
def stopped_at_end() -> Iterator[list[Served]]:
    """A list for the servers a test starts: each stopped (by its pid) at the end."""
    started: list[Served] = []
    yield started
    for s in started:
        if s.process.poll() is None:
            s.process.terminate()
        try:
            s.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            s.process.kill()
            s.process.wait()
