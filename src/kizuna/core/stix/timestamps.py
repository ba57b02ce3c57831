"""STIX 2.1 timestamps (§2.15) as integer microseconds since the Unix epoch, both ways."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["MAX_US", "MIN_US", "format_timestamp", "parse_timestamp"]

# §2.15: "YYYY-MM-DDTHH:mm:ss[.s+]Z", UTC only, any number of fraction digits. Every character is
# spelled out ([0-9], not \d, which would accept non-ASCII digits); fullmatch, so no trailing "\n".
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?Z"
)

# Days before the first of each month in a common year; index 0 is unused.
_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
# Days from 0001-01-01 (proleptic Gregorian) to 1970-01-01.
_EPOCH_ORDINAL = 719_162

# Years 0001-9999: the four-digit range of RFC 3339 §5.6 less year 0000, which Python's datetime
# (and with it every other STIX library in the pipeline) cannot represent either.
MIN_US = -_EPOCH_ORDINAL * _US_PER_DAY
MAX_US = (3_652_059 - _EPOCH_ORDINAL) * _US_PER_DAY - 1


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_before_year(year: int) -> int:
    y = year - 1
    return y * 365 + y // 4 - y // 100 + y // 400


def parse_timestamp(s: str) -> int:
    """Parse a STIX 2.1 timestamp into integer microseconds since the epoch (sub-µs truncated)."""
    if isinstance(s, str) and _TIMESTAMP.fullmatch(s) is not None:
        # Fast path: the regex has fixed the shape, so CPython's C parser only has to check the
        # calendar; it truncates (never rounds) fractions beyond six digits, as §2.15 is read here.
        try:
            return (datetime.fromisoformat(s) - _EPOCH) // _ONE_US
        except ValueError:
            pass
    # Slow path: find out exactly what is wrong, or compute the value without datetime's help.
    return _parse_exactly(s)


def _parse_exactly(s: object) -> int:
    """Parse like ``parse_timestamp`` with plain arithmetic, naming the exact fault on failure."""
    m = _TIMESTAMP.fullmatch(s) if isinstance(s, str) else None
    if m is None:
        raise ValueError(
            f"{s!r} is not a STIX timestamp: expected YYYY-MM-DDTHH:MM:SS[.fraction]Z in UTC"
        )
    year_s, month_s, day_s, hour_s, minute_s, second_s, fraction = m.groups()
    year = int(year_s)
    month = int(month_s)
    day = int(day_s)
    hour = int(hour_s)
    minute = int(minute_s)
    second = int(second_s)
    if year == 0:
        raise ValueError(f"{s!r}: year 0000 is outside the supported range 0001-9999")
    if not 1 <= month <= 12:
        raise ValueError(f"{s!r}: month {month_s} does not exist")
    leap = month == 2 and _is_leap(year)
    if not 1 <= day <= _DAYS_IN_MONTH[month] + leap:
        raise ValueError(f"{s!r}: day {day_s} does not exist in {year_s}-{month_s}")
    if hour > 23 or minute > 59:
        raise ValueError(f"{s!r}: time {hour_s}:{minute_s} does not exist")
    if second > 59:
        # RFC 3339 §5.7 allows :60 for a leap second, but epoch microseconds (POSIX time) have no
        # place for it and Python's datetime refuses it, so it is refused here too, by name.
        if second == 60:
            raise ValueError(f"{s!r}: leap seconds (:60) are not supported; use :59.999999 instead")
        raise ValueError(f"{s!r}: second {second_s} does not exist")
    days = (
        _days_before_year(year)
        + _DAYS_BEFORE_MONTH[month]
        + (month > 2 and _is_leap(year))
        + day
        - 1
        - _EPOCH_ORDINAL
    )
    us = days * _US_PER_DAY + ((hour * 60 + minute) * 60 + second) * _US_PER_SECOND
    if fraction:
        # Beyond six digits is finer than a microsecond: truncated, never rounded.
        us += int(fraction[:6].ljust(6, "0"))
    return us


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Turn days since 1970-01-01 into (year, month, day); H. Hinnant's civil_from_days."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def format_timestamp(us: int) -> str:
    """Format epoch microseconds as a STIX timestamp with six fraction digits and ``Z``."""
    if not MIN_US <= us <= MAX_US:
        raise ValueError(f"{us} µs is outside the timestamp range of years 0001-9999")
    days, rest = divmod(us, _US_PER_DAY)
    seconds, micro = divmod(rest, _US_PER_SECOND)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    year, month, day = _civil_from_days(days)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}Z"
