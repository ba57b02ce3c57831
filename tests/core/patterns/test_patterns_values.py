"""Value rules shared with the reference libraries: addresses, timestamps, windows, hashes."""

from __future__ import annotations

import datetime
import socket
import struct
from typing import Any

import dateutil.relativedelta
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2matcher.matcher import _str_to_datetime
from stix2patterns.v21.object_validator import HASHES_REGEX

from kizuna.core.patterns import Observation, observations_from_stix
from kizuna.core.patterns.addresses import inet_aton, parse_block, subset_of
from kizuna.core.patterns.conformance import _HASHES
from kizuna.core.patterns.literals import parse_timestamp, within_microseconds
from kizuna.errors import InvalidStix


def glibc_inet_aton(text: str) -> int | None:
    """What Python's socket.inet_aton (glibc) reads, or None."""
    try:
        return int(struct.unpack(">I", socket.inet_aton(text))[0])
    except (OSError, ValueError, UnicodeError):
        return None


_ADDRESS_PIECES = [*"0123456789.xXabcdefG \t\n/+-", "0x", "255", "256", "4294967295", "\x00", "é"]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_ADDRESS_PIECES), max_size=10).map("".join))
def test_inet_aton_reads_like_glibc(text: str) -> None:
    """stix2-matcher reads IPv4 with inet_aton: octal, hex, short forms, trailing junk."""
    assert inet_aton(text) == glibc_inet_aton(text)


@pytest.mark.parametrize(
    ("containee", "container", "expected"),
    [
        pytest.param("10.1.2.3", "10.0.0.0/8", True, id="inside"),
        pytest.param("10.1.2.3", "10.1.2.3/32", True, id="host-block"),
        pytest.param("10.1.0.0/16", "10.0.0.0/8", True, id="block-in-block"),
        pytest.param("10.0.0.0/8", "10.1.0.0/16", False, id="wider-block"),
        pytest.param("10.1", "10.0.0.0/24", True, id="inet-aton-short-form"),
        pytest.param("10.1.2.3", "10.0.0.0/0", None, id="prefix-zero"),
        pytest.param("10.1.2.3", "10.1.2.3", None, id="container-without-prefix"),
        pytest.param("2001:db8::1", "2001:db8::/32", True, id="ipv6"),
        pytest.param("2001:db8::1", "10.0.0.0/8", None, id="mixed-families"),
        pytest.param("host.example", "10.0.0.0/8", None, id="not-an-address"),
    ],
)
def test_subset_of(containee: str, container: str, expected: bool | None) -> None:
    """ISSUBSET semantics; None where stix2-matcher raises."""
    assert subset_of(containee, container) is expected


def test_parse_block_keeps_the_written_address() -> None:
    """Host bits stay in the address; ``network`` masks them."""
    block = parse_block("10.1.2.3/8")
    assert block is not None
    assert (block.family, block.prefix, block.network(8)) == (4, 8, 10 << 24)


_TIMESTAMP_PIECES = [*"0123456789-:.TZtz ", "2020-01-01T00:00:00", "60", "1234567"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_TIMESTAMP_PIECES), max_size=8).map("".join))
def test_timestamps_parse_like_stix2_matcher(text: str) -> None:
    """Same strptime rules, same truncation of sub-microsecond digits, same refusals."""
    try:
        expected: object = _str_to_datetime(text)
    except ValueError:
        expected = ValueError
    try:
        actual: object = parse_timestamp(text)
    except ValueError:
        actual = ValueError
    assert actual == expected


@settings(max_examples=300)
@given(
    st.integers(1, 10**14)
    | st.floats(min_value=1e-7, max_value=1e13, allow_nan=False, allow_infinity=False)
)
def test_within_window_rounds_like_relativedelta(seconds: float) -> None:
    """stix2-matcher adds relativedelta(seconds=n) to a datetime; we get the same microseconds."""
    start = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    try:
        end = start + dateutil.relativedelta.relativedelta(seconds=seconds)
    except OverflowError:
        expected = None
    else:
        expected = (end - start) // datetime.timedelta(microseconds=1)
    actual = within_microseconds(seconds)
    if expected is None:
        assert actual is None or start.timestamp() * 1e6 + actual > 253402300799e6
    else:
        assert actual == expected


def test_hash_rules_are_the_validators() -> None:
    """The digest regexes are stix2-patterns' own, byte for byte (the MD6 oddity included)."""
    assert HASHES_REGEX == _HASHES


def test_observations_from_stix() -> None:
    """observed-data resolves its object_refs; stix2-matcher's input model."""
    objects: list[dict[str, Any]] = [
        {
            "type": "observed-data",
            "id": "observed-data--1",
            "first_observed": "2020-01-01T00:00:00Z",
            "last_observed": "2020-01-01T00:00:01.5Z",
            "number_observed": 3,
            "object_refs": ["ipv4-addr--1", "ipv4-addr--missing"],
        },
        {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "10.1.2.3"},
    ]
    (seen,) = observations_from_stix(objects)
    assert seen.number_observed == 3
    assert seen.last_observed_us - seen.first_observed_us == 1_500_000
    assert set(seen.objects) == {"observed-data--1", "ipv4-addr--1"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"number_observed": 0}, "number_observed", id="count-zero"),
        pytest.param({"first_observed": "yesterday"}, "timestamp", id="bad-time"),
        pytest.param({"last_observed": "2019-01-01T00:00:00Z"}, "earlier", id="backwards"),
        pytest.param({"object_refs": None}, "object_refs", id="no-refs"),
    ],
)
def test_malformed_observed_data_is_refused(changes: dict[str, object], message: str) -> None:
    """Observations the matcher would raise on (or mis-time) are refused up front."""
    observed = {
        "type": "observed-data",
        "id": "observed-data--1",
        "first_observed": "2020-01-01T00:00:00Z",
        "last_observed": "2020-01-01T00:00:00Z",
        "number_observed": 1,
        "object_refs": [],
    }
    observed.update(changes)
    with pytest.raises(InvalidStix, match=message):
        observations_from_stix([observed])


def test_observation_checks_its_counts() -> None:
    """Direct construction validates too."""
    with pytest.raises(InvalidStix):
        Observation(0, 0, 0, {})
