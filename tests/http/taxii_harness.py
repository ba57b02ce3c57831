"""The HTTP tests' harness: the in-process app and its callers, nodes, and real servers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kizuna.core.parties import Party
from kizuna.http.app import create_app
from kizuna.services import parties, tokens
from kizuna.services.node import Node, init_node
from support import backend_url, serve_in_thread

PG_ENV = "KIZUNA_TEST_DATABASE_URL"


@dataclass
class Caller:
    """A party with a token and an in-process client authenticated as it (Bearer)."""

    party: Party
    token: str
    client: TestClient


@dataclass
class Taxii:
    """A node's real ASGI app, and the parties that call it."""

    node: Node
    app: FastAPI
    home: Caller = field(init=False)
    _clients: list[TestClient] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = self.caller(self.node.home_party)

    def client(self, headers: dict[str, str] | None = None) -> TestClient:
        made = TestClient(self.app, headers=headers, raise_server_exceptions=False)
        self._clients.append(made)
        return made

    def caller(self, party: Party) -> Caller:
        token = tokens.create(self.node, party.id).value
        return Caller(party, token, self.client({"Authorization": f"Bearer {token}"}))

    def join(
        self,
        name: str = "BSI",
        *,
        jurisdiction: str = "DE",
        kind: str = "government",
        scheme: str | None = "DE",
        client: bool = False,
    ) -> Caller:
        """Register a party and return a client authenticated as it."""
        party = parties.add_party(
            self.node, name, jurisdiction=jurisdiction, kind=kind, scheme=scheme, client=client
        )
        return self.caller(party)

    def close(self) -> None:
        for c in self._clients:
            c.close()


def make_taxii(node: Node) -> Taxii:
    return Taxii(node, create_app(node))


database = backend_url  # None for SQLite; a PostgreSQL URL on a schema of its own


@contextmanager
def fresh_node(folder: Path, backend: str, name: str = "CERT-EU") -> Iterator[Node]:
    """A node of its own (for fixtures wider than one test), closed afterwards."""
    with database(backend) as url:
        node = init_node(
            folder, party_name=name, jurisdiction="EU", kind="csirt", scheme="EU", database_url=url
        )
        try:
            yield node
        finally:
            node.close()


@dataclass
class LiveServer:
    """A real uvicorn server on a loopback port, serving one node."""

    node: Node
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def start_server(node: Node) -> LiveServer:
    """Serve the node's app from a background thread on a free loopback port."""
    url, server, thread = serve_in_thread(node)
    return LiveServer(node, url, server, thread)


def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=15)
    assert not live.thread.is_alive(), "the test server did not stop"
