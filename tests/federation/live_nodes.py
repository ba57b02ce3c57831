"""Real nodes over real loopback sockets: each a ``kizuna serve`` subprocess with its own folder
and SQLite, wired (parties, keys, tokens, peers, one agreement) through the services before it
starts. Background sync is off (``sync_interval 0``): only the syncs a test runs happen.

Also the misbehaving servers a peer can be: one that accepts and never answers, one that
trickles its answer a byte at a time, and ones that answer with garbage.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from kizuna.services import parties, peers, tokens
from kizuna.services.node import Node, init_node, open_node

KIZUNA = [sys.executable, "-c", "from kizuna.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveNode:
    """One node's folder and port, and its ``kizuna serve`` process while it runs."""

    name: str
    home: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def db(self) -> Path:
        return self.home / "kizuna.db"

    def start(self) -> None:
        log = (self.home / "serve.log").open("ab")
        self.logs.append(log)
        self.process = subprocess.Popen(
            [*KIZUNA, "--home", str(self.home), "serve", "--port", str(self.port),
             "--log-level", "warning"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + "healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start: {self.log_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, whatever was in flight is lost."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=15)
            self.process = None
        for log in self.logs:
            log.close()
        self.logs.clear()

    def log_text(self) -> str:
        path = self.home / "serve.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    @contextlib.contextmanager
    def opened(self) -> Iterator[Node]:
        """The node opened in this process too (SQLite in WAL mode takes readers and writers
        from several processes), closed afterwards."""
        node = open_node(self.home)
        try:
            yield node
        finally:
            node.close()


def cli(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``kizuna --home HOME ARGS`` to the end."""
    return subprocess.run(
        [*KIZUNA, "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "400"},
    )


def popen_cli(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*KIZUNA, "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "400"},
    )


def build(
    base: Path,
    cast: dict[str, tuple[str, str, str | None, str]],
    populate: Callable[[dict[str, Node]], None],
) -> dict[str, LiveNode]:
    """Create the nodes (name → (jurisdiction, kind, scheme, party id)), let ``populate`` add
    agreements and objects, and wire every node to pull from every other. Nothing runs yet."""
    live = {
        name: LiveNode(name, base / name.lower().replace(" ", "-"), free_port()) for name in cast
    }
    nodes: dict[str, Node] = {}
    try:
        for name, (jurisdiction, kind, scheme, pid) in cast.items():
            nodes[name] = init_node(
                live[name].home, party_name=name, jurisdiction=jurisdiction, kind=kind,
                scheme=scheme, party_id=pid,
            )  # fmt: skip
            nodes[name].set_setting("sync_interval", "0")
        for name, node in nodes.items():
            for other, other_node in nodes.items():
                if other != name:
                    jurisdiction, kind, scheme, pid = cast[other]
                    parties.add_party(
                        node, other, jurisdiction=jurisdiction, kind=kind, scheme=scheme,
                        party_id=pid, public_keys=(other_node.public_key,),
                    )  # fmt: skip
        for name, node in nodes.items():
            for other, other_node in nodes.items():
                if other != name:
                    token = tokens.create(other_node, name, "peer").value
                    peers.add(node, live[other].url, other, token)
        populate(nodes)
    finally:
        for node in nodes.values():
            node.close()
    return live


# Servers that are no kizuna node at all.


class _Quiet(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up on us (it timed out) is the point


class BadServer:
    """A TCP server on loopback that misbehaves in one way (``mode``) on every connection.

    ``silent``: accepts and never answers; ``trickle``: sends a valid status line and headers,
    then one byte of body every ``pause`` seconds; ``html``: 200 with an HTML page; ``cut``:
    promises more body than it sends, then closes; ``hang-up``: closes without a word;
    ``error``: 500.
    """

    MODES = ("silent", "trickle", "html", "cut", "hang-up", "error")

    def __init__(self, mode: str, pause: float = 0.2) -> None:
        assert mode in self.MODES
        self.mode, self.pause = mode, pause
        self.stop = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.serve(self.request)

        self.server = _Quiet(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            conn.recv(65536)  # the request (small GETs fit)
            if self.mode == "silent":
                self.stop.wait()
            elif self.mode == "trickle":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100000\r\n\r\n")  # fmt: skip
                while not self.stop.wait(self.pause):
                    conn.sendall(b" ")
            elif self.mode == "html":
                body = b"<!doctype html><html><body>Welcome to the portal</body></html>"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip
            elif self.mode == "cut":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;"
                             b"version=2.1\r\nContent-Length: 5000\r\n\r\n"
                             b'{"more": false, "objects": [{"type": "indic')  # fmt: skip
            elif self.mode == "error":
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
            # hang-up: close at once

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
