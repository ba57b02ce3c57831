"""Literal values of STIX patterns (§9.4), converted exactly as stix2-matcher converts them."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import UTC, datetime, timedelta

from kizuna.core.patterns.ast import LiteralKind, LiteralValue
from kizuna.core.patterns.lexer import TokenKind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

LITERAL_KINDS = {
    TokenKind.IntPosLiteral: LiteralKind.INT,
    TokenKind.IntNegLiteral: LiteralKind.INT,
    TokenKind.FloatPosLiteral: LiteralKind.FLOAT,
    TokenKind.FloatNegLiteral: LiteralKind.FLOAT,
    TokenKind.StringLiteral: LiteralKind.STRING,
    TokenKind.BoolLiteral: LiteralKind.BOOL,
    TokenKind.BinaryLiteral: LiteralKind.BINARY,
    TokenKind.HexLiteral: LiteralKind.HEX,
    TokenKind.TimestampLiteral: LiteralKind.TIMESTAMP,
}


def unescape_string(token_text: str) -> str:
    """The content of a quoted string literal, with ``\\'`` and ``\\\\`` unescaped (§9.4)."""
    return token_text[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 UTC timestamp as stix2-matcher does; raise ValueError if it is not one.

    Upper-case ``T``/``Z`` only; more than six fractional digits are truncated to microseconds.
    """
    if any(c.islower() for c in text):
        raise ValueError(f"timestamps need upper-case T and Z: {text}")
    if "." in text:
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        parts = text.split(".")
        if len(parts[1]) > 7 and parts[1].endswith("Z"):
            parts[1] = parts[1][:6] + parts[1][-1:]
            text = ".".join(parts)
    else:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def to_microseconds(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return (moment - EPOCH) // _MICROSECOND


def parse_timestamp_us(text: str) -> int:
    """Microseconds since the epoch of a timestamp string (see ``parse_timestamp``)."""
    return to_microseconds(parse_timestamp(text))


def literal_value(kind: TokenKind, text: str) -> LiteralValue | None:
    """The Python value of a literal token, or None when it has none (an impossible date)."""
    if kind is TokenKind.StringLiteral:
        return unescape_string(text)
    if kind is TokenKind.IntPosLiteral or kind is TokenKind.IntNegLiteral:
        return int(text)
    if kind is TokenKind.FloatPosLiteral or kind is TokenKind.FloatNegLiteral:
        return float(text)
    if kind is TokenKind.BoolLiteral:
        return text == "true"
    if kind is TokenKind.BinaryLiteral:
        return base64.standard_b64decode(text[2:-1])
    if kind is TokenKind.HexLiteral:
        return binascii.a2b_hex(text[2:-1])
    try:
        return parse_timestamp(text[2:-1])
    except ValueError:
        return None


def within_microseconds(seconds: int | float) -> int | None:
    """Length of a ``WITHIN n SECONDS`` window in microseconds; None beyond datetime's range.

    stix2-matcher builds ``relativedelta(seconds=n)``, which normalises seconds into minutes,
    hours and days with float arithmetic before it becomes a timedelta; so do we, to round alike.
    """
    rest: float = seconds
    minutes: float = 0
    hours: float = 0
    days: float = 0
    if abs(rest) > 59:
        sign = int(math.copysign(1, rest))
        div, rest = divmod(rest * sign, 60)
        rest, minutes = rest * sign, div * sign
    if abs(minutes) > 59:
        sign = int(math.copysign(1, minutes))
        div, minutes = divmod(minutes * sign, 60)
        minutes, hours = minutes * sign, div * sign
    if abs(hours) > 23:
        sign = int(math.copysign(1, hours))
        div, hours = divmod(hours * sign, 24)
        hours, days = hours * sign, div * sign
    try:
        window = timedelta(days=days, hours=hours, minutes=minutes, seconds=rest)
    except OverflowError:
        return None
    return window // _MICROSECOND


def like_to_regex(like: str) -> str:
    """The regex stix2-matcher uses for ``LIKE`` (§9.5): ``%`` any run, ``_`` one character."""
    out = ["^"]
    for c in like:
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            if not c.isalnum():
                out.append("\\")
            out.append(c)
    out.append("$")
    return "".join(out)
