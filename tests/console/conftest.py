"""Console fixtures: the world's node, and a logged-in client per person."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from console_world import World, build, log_in
from fastapi.testclient import TestClient

from kizuna.http.app import create_app
from kizuna.services import users
from kizuna.services.node import Node


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id still, with small parameters: these tests are about the console, not hashing
    (tests/services/test_users.py checks the stored hashes with the real parameters)."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))
    monkeypatch.setattr(users, "_DUMMY", users._HASHER.hash("kizuna: no such user"))


@pytest.fixture
def world(sqlite_node: Node) -> World:
    return build(sqlite_node)


@pytest.fixture
def person(world: World) -> Callable[[str], TestClient]:
    app = create_app(world.node)

    def make(user: str) -> TestClient:
        return log_in(TestClient(app, base_url="https://testserver"), user)

    return make
