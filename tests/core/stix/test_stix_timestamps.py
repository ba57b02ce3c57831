"""STIX 2.1 timestamps: parsing to epoch microseconds and formatting back (§2.15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.stix.timestamps import MAX_US, MIN_US, format_timestamp, parse_timestamp

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "us"),
    [
        pytest.param("1970-01-01T00:00:00Z", 0, id="epoch"),
        pytest.param("1970-01-01T00:00:00.000Z", 0, id="epoch-millis"),
        pytest.param("1969-12-31T23:59:59.5Z", -500_000, id="before-epoch"),
        pytest.param("2016-04-06T20:03:48.123Z", 1_459_973_028_123_000, id="millis"),
        pytest.param("2016-04-06T20:03:48.1Z", 1_459_973_028_100_000, id="one-digit"),
        pytest.param("2026-11-27T13:46:58.123456Z", 1_795_787_218_123_456, id="micros"),
        pytest.param("2026-11-27T13:46:58.123456789Z", 1_795_787_218_123_456, id="nanos-cut"),
        pytest.param("2026-11-27T13:46:58.9999999Z", 1_795_787_218_999_999, id="never-rounded"),
        pytest.param("2000-02-29T00:00:00Z", 951_782_400_000_000, id="leap-day-400"),
        pytest.param("2024-02-29T12:00:00Z", 1_709_208_000_000_000, id="leap-day-4"),
        pytest.param("0001-01-01T00:00:00Z", MIN_US, id="first-instant"),
        pytest.param("9999-12-31T23:59:59.999999Z", MAX_US, id="last-instant"),
    ],
)
def test_parse_gives_epoch_microseconds(text: str, us: int) -> None:
    assert parse_timestamp(text) == us


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            "2021-02-29T00:00:00Z", "day 29 does not exist in 2021-02", id="feb-29-common"
        ),
        pytest.param("1900-02-29T00:00:00Z", "day 29 does not exist", id="feb-29-century"),
        pytest.param("2020-02-30T00:00:00Z", "day 30 does not exist", id="feb-30"),
        pytest.param("2020-04-31T00:00:00Z", "day 31 does not exist", id="apr-31"),
        pytest.param("2020-01-00T00:00:00Z", "day 00 does not exist", id="day-0"),
        pytest.param("2020-13-01T00:00:00Z", "month 13 does not exist", id="month-13"),
        pytest.param("2020-00-01T00:00:00Z", "month 00 does not exist", id="month-0"),
        pytest.param("2020-01-01T24:00:00Z", "time 24:00 does not exist", id="hour-24"),
        pytest.param("2020-01-01T23:60:00Z", "time 23:60 does not exist", id="minute-60"),
        pytest.param("2016-12-31T23:59:60Z", "leap seconds (:60) are not supported", id="leap-sec"),
        pytest.param("2016-12-31T23:59:61Z", "second 61 does not exist", id="second-61"),
        pytest.param("0000-01-01T00:00:00Z", "year 0000 is outside", id="year-0"),
        pytest.param("2016-01-01T00:00:00", "is not a STIX timestamp", id="no-zone"),
        pytest.param("2016-01-01T00:00:00+00:00", "is not a STIX timestamp", id="offset"),
        pytest.param("2016-01-01T00:00:00z", "is not a STIX timestamp", id="lower-z"),
        pytest.param("2016-01-01t00:00:00Z", "is not a STIX timestamp", id="lower-t"),
        pytest.param("2016-01-01 00:00:00Z", "is not a STIX timestamp", id="space"),
        pytest.param("2016-01-01T00:00:00.Z", "is not a STIX timestamp", id="empty-fraction"),
        pytest.param("2016-01-01T00:00Z", "is not a STIX timestamp", id="no-seconds"),
        pytest.param("2016-01-01", "is not a STIX timestamp", id="date-only"),
        pytest.param("20160101T000000Z", "is not a STIX timestamp", id="basic-format"),
        pytest.param("2016-01-01T00:00:00Z\n", "is not a STIX timestamp", id="newline"),
        pytest.param("２016-01-01T00:00:00Z", "is not a STIX timestamp", id="fullwidth-digit"),
        pytest.param("", "is not a STIX timestamp", id="empty"),
    ],
)
def test_parse_refuses_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_timestamp(text)


@pytest.mark.parametrize("value", [None, 0, 1.5, b"2016-01-01T00:00:00Z"], ids=repr)
def test_parse_refuses_non_strings(value: object) -> None:
    with pytest.raises(ValueError, match="is not a STIX timestamp"):
        parse_timestamp(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("us", "text"),
    [
        pytest.param(0, "1970-01-01T00:00:00.000000Z", id="epoch"),
        pytest.param(-1, "1969-12-31T23:59:59.999999Z", id="just-before-epoch"),
        pytest.param(1_795_787_218_123_456, "2026-11-27T13:46:58.123456Z", id="brief-example"),
        pytest.param(MIN_US, "0001-01-01T00:00:00.000000Z", id="min"),
        pytest.param(MAX_US, "9999-12-31T23:59:59.999999Z", id="max"),
    ],
)
def test_format_always_has_six_digits_and_z(us: int, text: str) -> None:
    assert format_timestamp(us) == text


@pytest.mark.parametrize("us", [MIN_US - 1, MAX_US + 1], ids=["below", "above"])
def test_format_refuses_out_of_range(us: int) -> None:
    with pytest.raises(ValueError, match="outside the timestamp range"):
        format_timestamp(us)


@given(st.integers(min_value=MIN_US, max_value=MAX_US))
def test_parse_inverts_format(us: int) -> None:
    assert parse_timestamp(format_timestamp(us)) == us


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.text(alphabet="0123456789", max_size=12),
)
def test_parse_agrees_with_datetime(moment: datetime, fraction: str) -> None:
    m = moment
    text = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
    if fraction:
        text += "." + fraction
    text += "Z"
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    expected = (moment.replace(microsecond=0, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
    assert parse_timestamp(text) == expected + micro


@given(st.integers(min_value=MIN_US, max_value=MAX_US))
def test_format_then_parse_is_the_same_instant_as_datetime(us: int) -> None:
    text = format_timestamp(us)
    assert datetime.fromisoformat(text) == EPOCH + timedelta(microseconds=us)
    assert format_timestamp(parse_timestamp(text)) == text
