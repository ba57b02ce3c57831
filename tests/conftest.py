"""Test-wide setup; being here also puts ``tests/`` on sys.path (tests import ``shared_data``).

Fixtures: a frozen, stepping clock and deterministic ids (so output is byte-stable), nodes on
SQLite (and on PostgreSQL when ``KIZUNA_TEST_DATABASE_URL`` is set), and the in-process HTTP
client that drives the real ASGI app.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from kizuna.http.app import create_app
from kizuna.services import parties, tokens
from kizuna.services.node import Node, init_node
from support import FakeClock, Member, SeqIds, backend_url

settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ids() -> SeqIds:
    return SeqIds()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Each backend in turn: None means the node's embedded SQLite."""
    with backend_url(request.param) as url:
        yield url


NodeFactory = Callable[..., Node]


@pytest.fixture
def make_node(tmp_path: Path, clock: FakeClock) -> Iterator[NodeFactory]:
    """Create nodes in folders of their own; all closed at the end."""
    made: list[Node] = []

    def make(
        name: str = "CERT-EU",
        *,
        jurisdiction: str = "EU",
        kind: str = "csirt",
        scheme: str | None = "EU",
        database_url: str | None = None,
        party_id: str | None = None,
    ) -> Node:
        node = init_node(
            tmp_path / f"node-{len(made)}",
            party_name=name,
            jurisdiction=jurisdiction,
            kind=kind,
            scheme=scheme,
            database_url=database_url,
            clock=clock,
            new_id=SeqIds(f"{name}-{len(made)}"),
            party_id=party_id,
        )
        made.append(node)
        return node

    yield make
    for node in made:
        node.close()


@pytest.fixture
def node(make_node: NodeFactory, database_url: str | None) -> Node:
    """A fresh node on each backend."""
    return make_node(database_url=database_url)


@pytest.fixture
def sqlite_node(make_node: NodeFactory) -> Node:
    """A fresh node on SQLite only (for tests that are not about storage)."""
    return make_node()


@pytest.fixture
def member(sqlite_node: Node) -> Callable[..., Member]:
    """Register a party on ``sqlite_node`` and give back a client authenticated as it."""
    app = create_app(sqlite_node)

    def make(
        name: str = "BSI",
        jurisdiction: str = "DE",
        kind: str = "government",
        scheme: str | None = "DE",
        client: bool = False,
    ) -> Member:
        if name == sqlite_node.home_party.name:
            party = sqlite_node.home_party
        else:
            party = parties.add_party(
                sqlite_node,
                name,
                jurisdiction=jurisdiction,
                kind=kind,
                scheme=scheme,
                client=client,
            )
        token = tokens.create(sqlite_node, party.id).value
        http = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        return Member(party, token, http)

    return make
