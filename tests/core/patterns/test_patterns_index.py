"""``PatternIndex`` finds exactly the indicators full evaluation would (STIX 2.1 §9, §4.7)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_strategies import observed_data
from matching_strategies import patterns as matching_patterns

from kizuna.core.patterns import (
    InvalidPattern,
    Observation,
    PatternIndex,
    RangeKey,
    ValueKey,
    compile_pattern,
    observations_from_stix,
)

NOW = 1_600_000_000_000_000


def observation(*objects: dict[str, Any], at: int = NOW, count: int = 1) -> Observation:
    """One observation of ``objects`` at ``at``."""
    return Observation(at, at, count, {obj["id"]: obj for obj in objects})


def address(value: str, number: int = 1) -> dict[str, Any]:
    """An ipv4-addr (or ipv6-addr, for a value with a colon) SCO."""
    kind = "ipv6-addr" if ":" in value else "ipv4-addr"
    return {"type": kind, "id": f"{kind}--{number}", "value": value}


def index_of(patterns: dict[str, str]) -> PatternIndex:
    """An index of the given indicator ids and patterns, all valid from time 0."""
    index = PatternIndex()
    for indicator_id, text in patterns.items():
        index.add(indicator_id, compile_pattern(text), 0)
    return index


@pytest.mark.parametrize(
    ("pattern", "keys"),
    [
        pytest.param(
            "[ipv4-addr:value = '1.2.3.4']",
            {ValueKey("ipv4-addr", ("value",), ("s", "1.2.3.4"))},
            id="equality",
        ),
        pytest.param(
            "[network-traffic:dst_port IN (80, 443)]",
            {
                ValueKey("network-traffic", ("dst_port",), ("n", 80)),
                ValueKey("network-traffic", ("dst_port",), ("n", 443)),
            },
            id="in",
        ),
        pytest.param(
            "[ipv4-addr:value ISSUBSET '10.1.2.3/8']",
            {RangeKey("ipv4-addr", ("value",), 4, 10 << 24, 8)},
            id="cidr",
        ),
        pytest.param(
            "[ipv4-addr:value = '1.2.3.4' AND network-traffic:dst_port = '443']",
            {ValueKey("ipv4-addr", ("value",), ("s", "1.2.3.4"))},
            id="and-takes-the-selective-side",
        ),
        pytest.param(
            "[file:name = 'a'] OR [file:name = 'b'] AND [file:size = 1]",
            {ValueKey("file", ("name",), ("s", "a")), ValueKey("file", ("name",), ("s", "b"))},
            id="or-unions",
        ),
        pytest.param(
            "[file:name LIKE 'a%' AND file:size = 3] FOLLOWEDBY [file:name != 'x']",
            {ValueKey("file", ("size",), ("n", 3))},
            id="followedby-takes-one-side",
        ),
        pytest.param("[indicator:name = 'x']", set(), id="never-selected-type"),
        pytest.param("[a:b = 1] REPEATS 0 TIMES", set(), id="never-evaluable"),
        pytest.param("[a:b ISSUBSET 'not-a-block']", set(), id="unreadable-block"),
    ],
)
def test_keys(pattern: str, keys: set[Any]) -> None:
    """Keys: equality and IN values, CIDR blocks; AND picks one side, OR unions."""
    assert compile_pattern(pattern).keys == frozenset(keys)


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param("[file:name != 'a']", id="neq"),
        pytest.param("[file:name NOT = 'a']", id="not"),
        pytest.param("[file:name LIKE 'a%']", id="like"),
        pytest.param("[file:size > 3]", id="order"),
        pytest.param("[EXISTS file:name]", id="exists"),
        pytest.param("[file:name = 'a' OR file:size > 3]", id="or-with-unindexable"),
        pytest.param("[file:name = 'a'] OR [file:size > 3]", id="observation-or"),
    ],
)
def test_unindexable_patterns_are_always_evaluated(pattern: str) -> None:
    """No keys: the pattern goes on the always-evaluate list."""
    compiled = compile_pattern(pattern)
    assert compiled.keys is None
    index = PatternIndex()
    index.add("indicator--1", compiled, 0)
    assert index.always_evaluated == {"indicator--1"}
    assert index.candidates(observation(address("9.9.9.9"))) == {"indicator--1"}


def test_lookup_by_value_and_by_block() -> None:
    """Exact values, IPv4 and IPv6 blocks, through references."""
    index = index_of(
        {
            "indicator--exact": "[ipv4-addr:value = '10.1.2.3']",
            "indicator--wide": "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
            "indicator--narrow": "[ipv4-addr:value ISSUBSET '10.1.2.0/24']",
            "indicator--other": "[ipv4-addr:value ISSUBSET '11.0.0.0/8']",
            "indicator--v6": "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
            "indicator--ref": "[network-traffic:dst_ref.value ISSUBSET '10.1.0.0/16']",
        }
    )
    hit = observation(address("10.1.2.3"))
    assert index.match(hit, NOW) == ["indicator--exact", "indicator--narrow", "indicator--wide"]
    assert index.match(observation(address("10.9.9.9")), NOW) == ["indicator--wide"]
    assert index.match(observation(address("2001:db8::5")), NOW) == ["indicator--v6"]
    traffic = {"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1"}
    assert "indicator--ref" in index.match(observation(traffic, address("10.1.9.9")), NOW)
    assert index.match(observation(address("12.0.0.1")), NOW) == []


def test_timestamp_and_binary_keys() -> None:
    """A timestamp literal finds the string written as a timestamp; binary finds its string."""
    index = index_of(
        {
            "indicator--time": "[file:ctime = t'2020-01-01T00:00:00.5Z']",
            "indicator--bytes": "[file:payload_bin = 'hi']",
        }
    )
    found = {
        "type": "file",
        "id": "file--1",
        "ctime": "2020-01-01T00:00:00.500Z",
        "payload_bin": "aGk=",
    }
    assert index.match(observation(found), NOW) == ["indicator--bytes", "indicator--time"]


def test_validity_window() -> None:
    """Not yet valid and expired indicators never match; valid_until is exclusive (§4.7)."""
    compiled = compile_pattern("[ipv4-addr:value = '10.1.2.3']")
    index = PatternIndex()
    index.add("indicator--open", compiled, 100)
    index.add("indicator--closed", compiled, 100, 200)
    seen = observation(address("10.1.2.3"))
    assert index.match(seen, 99) == []
    assert index.match(seen, 100) == ["indicator--closed", "indicator--open"]
    assert index.match(seen, 199) == ["indicator--closed", "indicator--open"]
    assert index.match(seen, 200) == ["indicator--open"]


def test_revision_and_revocation() -> None:
    """Adding an id again replaces it; removing forgets every key it had."""
    index = PatternIndex()
    index.add("indicator--1", compile_pattern("[ipv4-addr:value = '10.1.2.3']"), 0)
    index.add("indicator--1", compile_pattern("[ipv4-addr:value ISSUBSET '192.168.0.0/16']"), 0)
    assert len(index) == 1
    assert index.match(observation(address("10.1.2.3")), NOW) == []
    assert index.match(observation(address("192.168.1.1")), NOW) == ["indicator--1"]
    assert index.remove("indicator--1")
    assert not index.remove("indicator--1")
    assert "indicator--1" not in index
    assert index.candidates(observation(address("192.168.1.1"))) == set()


def test_multiple_observation_expressions_in_one_observed_data() -> None:
    """``[a] AND [b]`` needs two instances: one observed-data seen twice can satisfy it."""
    index = index_of({"indicator--1": "[ipv4-addr:value = '10.1.2.3'] AND [file:name = 'a']"})
    objects = (address("10.1.2.3"), {"type": "file", "id": "file--1", "name": "a"})
    assert index.match(observation(*objects), NOW) == []
    assert index.match(observation(*objects, count=2), NOW) == ["indicator--1"]


_EXTRA = [
    "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
    "[ipv4-addr:value ISSUBSET '192.168.7.0/25' OR file:name IN ('a.exe', 'x')]",
    "[network-traffic:dst_port IN (443, 80) AND network-traffic:protocols[*] = 'tcp']",
    "[email-message:to_refs[*].value = 'b@example.org']",
    "[file:ctime = t'2020-01-01T00:00:00.5Z'] REPEATS 2 TIMES",
    "[x-thing:x_hex = h'00ff'] OR [file:size = 2.5]",
]


def _valid(pattern: str) -> bool:
    try:
        compile_pattern(pattern)
    except InvalidPattern:
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(matching_patterns().filter(_valid) | st.sampled_from(_EXTRA), min_size=1, max_size=12),
    observed_data(),
)
def test_index_equals_evaluating_every_pattern(
    patterns: list[str], objects: list[dict[str, Any]]
) -> None:
    """For every observation, the index's matches are exactly the patterns that match it."""
    compiled = {f"indicator--{n}": compile_pattern(text) for n, text in enumerate(patterns)}
    index = PatternIndex()
    for indicator_id, pattern in compiled.items():
        index.add(indicator_id, pattern, 0)
    for seen in observations_from_stix(objects):
        expected = sorted(i for i, pattern in compiled.items() if pattern.matches([seen]))
        assert index.match(seen, NOW) == expected
        assert set(expected) <= index.candidates(seen)
