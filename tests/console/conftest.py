"""Console fixtures: the world's node, and a logged-in client per person."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from console_world import PASSWORD, World, build
from fastapi.testclient import TestClient

from kizuna.http.app import create_app
from kizuna.services import users
from kizuna.services.node import Node

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def log_in(http: TestClient, user: str, password: str = PASSWORD) -> TestClient:
    token = csrf_of(http.get("/login").text)
    r = http.post(
        "/login",
        data={"csrf": token, "user": user, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return http


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
