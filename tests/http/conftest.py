"""HTTP fixtures: the in-process app on each backend, and a real uvicorn server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from taxii_harness import LiveServer, Taxii, fresh_node, make_taxii, start_server, stop_server

from kizuna.services.node import Node


@pytest.fixture
def taxii(node: Node) -> Iterator[Taxii]:
    """The app of a fresh node, on SQLite and (when configured) PostgreSQL."""
    face = make_taxii(node)
    yield face
    face.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_taxii(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Taxii]:
    """One node's app for a whole module, on each backend: for tests that only read or fail."""
    with fresh_node(tmp_path_factory.mktemp("shared"), request.param) as node:
        face = make_taxii(node)
        yield face
        face.close()


@pytest.fixture
def live(node: Node) -> Iterator[LiveServer]:
    """A real server on loopback for a fresh node, on each backend."""
    server = start_server(node)
    yield server
    stop_server(server)
