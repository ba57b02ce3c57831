"""Console fixtures: the world's node, and a logged-in client per person."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from console_world import PASSWORD, World, build
from fastapi.testclient import TestClient

from kizuna.http.app import create_app
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


@pytest.fixture
def world(sqlite_node: Node) -> World:
    return build(sqlite_node)


@pytest.fixture
def person(world: World) -> Callable[[str], TestClient]:
    app = create_app(world.node)

    def make(user: str) -> TestClient:
        return log_in(TestClient(app, base_url="https://testserver"), user)

    return make
