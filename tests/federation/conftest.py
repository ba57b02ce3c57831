"""Fixtures of the federation tests; the helpers live in federation_kit (importable by name)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from federation_kit import Federation, build

from support import FakeClock


@pytest.fixture
def federation(tmp_path: Any, clock: FakeClock) -> Iterator[Callable[[list[str]], Federation]]:
    made: list[Federation] = []

    def make(names: list[str]) -> Federation:
        fed = build(tmp_path, names, clock)
        made.append(fed)
        return fed

    yield make
    for fed in made:
        for node in fed.nodes.values():
            node.close()
