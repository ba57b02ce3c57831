"""Nesting depth, measured without recursion: of a value, and of a JSON text read in chunks."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.stix.depth import DepthScanner, nesting_depth

_strings = st.text(alphabet='ab"\\[]{}\n', max_size=5)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | _strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_strings, inner, max_size=3),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@given(value=_json, cuts=st.lists(st.integers(0, 400), max_size=8))
def test_the_scanner_reads_the_depth_of_any_json_text_in_any_chunks(
    value: Any, cuts: list[int]
) -> None:
    text = orjson.dumps(value)
    scanner = DepthScanner()
    edges = [0, *sorted(c for c in cuts if c < len(text)), len(text)]
    for start, end in pairwise(edges):
        scanner.feed(text[start:end])
    assert scanner.deepest == _depth(value)
    assert scanner.depth == 0


@given(value=_json, limit=st.integers(1, 6))
def test_nesting_depth_stops_just_past_the_limit(value: Any, limit: int) -> None:
    assert nesting_depth(value, limit) == min(_depth(value), limit + 1)


def test_a_million_levels_are_measured_without_recursion() -> None:
    scanner = DepthScanner()
    for _ in range(100):
        scanner.feed(b"[" * 10_000)
    assert scanner.deepest == 1_000_000
    value: Any = "x"
    for _ in range(100_000):
        value = [value]
    assert nesting_depth(value, 10**6) == 100_000
