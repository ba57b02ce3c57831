"""Test helpers shared by many test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi.testclient import TestClient

from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import parse_timestamp

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
