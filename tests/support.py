"""Test helpers shared by many test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.http.app import create_app
from kizuna.services.node import Node

START = parse_timestamp("2026-11-27T09:00:00Z")


class FakeClock:
    """A clock that moves one millisecond each time it is read, and can be set or advanced."""

    def __init__(self, start: int = START) -> None:
        self.us = start

    def __call__(self) -> int:
        self.us += 1000
        return self.us

    def advance(self, seconds: float) -> None:
        self.us += int(seconds * 1_000_000)


class SeqIds:
    """Deterministic STIX ids: UUIDv5 of a counter."""

    def __init__(self, seed: str = "kizuna-tests") -> None:
        self.seed = seed
        self.n = 0

    def __call__(self, stix_type: str) -> str:
        self.n += 1
        return f"{stix_type}--{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.seed}/{self.n}')}"


@dataclass
class Member:
    """A party of a node with a token, and an HTTP client authenticated as it."""

    party: Party
    token: str
    client: TestClient


PG_ENV = "KIZUNA_TEST_DATABASE_URL"


@contextmanager
def backend_url(backend: str) -> Iterator[str | None]:
    """None for SQLite; for PostgreSQL a URL on a schema of its own, dropped afterwards.

    Skips the test with the reason when ``KIZUNA_TEST_DATABASE_URL`` is not set.
    """
    if backend == "sqlite":
        yield None
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/test)"
        )
    schema = "t_" + uuid.uuid4().hex[:12]
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def serve_in_thread(node: Node) -> tuple[str, uvicorn.Server, threading.Thread]:
    """A real uvicorn server for the node on a free loopback port, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(node),
        log_config=None,
        access_log=False,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    if not server.started:
        raise RuntimeError("the test server did not start")
    return f"http://127.0.0.1:{port}", server, thread
