"""Comparison operators on single values (§9.5), with stix2-matcher's type rules.

Each comparison becomes a predicate on one value selected by its object path. Types compare as
stix2-matcher compares them: numbers with numbers, strings with strings, binary (``h''``,
``b''``, ``*_hex``, ``*_bin``) with binary or with strings whose code points are all below 256,
booleans only with booleans (but ``IN`` is Python set membership, so ``true IN (1)``), and a
timestamp literal with a string read as a timestamp. Incomparable order tests are false even
under ``NOT``. Where stix2-matcher raises on a value (a string that is no timestamp, an address
that is no address) the predicate is false; where it raises whatever the data (an impossible
date, a mixed set, a bad regex) the comparison carries a ``problem`` and the pattern never matches.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kizuna.core.patterns.addresses import subset_of
from kizuna.core.patterns.ast import Comparison, LiteralValue, Operator
from kizuna.core.patterns.literals import like_to_regex, parse_timestamp
from kizuna.core.patterns.regex import RegexRefused, compile_regex

ValuePredicate = Callable[[Any], bool]
_ERROR = None  # a value stix2-matcher would raise on


def _never(_value: Any) -> bool:
    return False


def _as_timestamp(value: Any) -> Any:
    """A JSON string compared with a timestamp literal is read as a timestamp (or is an error)."""
    try:
        return parse_timestamp(value)
    except ValueError:
        return _ERROR


def _latin1(text: str) -> bytes | None:
    """A string as bytes when every code point is below 256 (binary comparisons, §9.4)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return None


def _equals(literal: LiteralValue, value: Any) -> bool | None:
    """``value = literal`` under the matcher's equality table; None for an error."""
    kind = type(value)
    if isinstance(literal, datetime):
        if isinstance(value, str):
            moment = _as_timestamp(value)
            return None if moment is _ERROR else bool(moment == literal)
        return False
    if isinstance(literal, bool):
        return kind is bool and value == literal
    if isinstance(literal, int | float):
        return (kind is int or kind is float) and value == literal
    if isinstance(literal, str):
        if kind is str:
            return bool(value == literal)
        return kind is bytes and _latin1(literal) == value
    if kind is bytes:
        return bool(value == literal)
    return kind is str and _latin1(value) == literal


def _order(literal: LiteralValue, value: Any) -> int | bool | None:
    """-1/0/1 comparing ``value`` with ``literal``; False if incomparable; None for an error."""
    left: Any
    right: Any
    if isinstance(literal, datetime):
        if not isinstance(value, str):
            return False
        moment = _as_timestamp(value)
        if moment is _ERROR:
            return None
        left, right = moment, literal
    else:
        kind = type(value)
        if isinstance(literal, int | float) and not isinstance(literal, bool):
            if kind is not int and kind is not float:
                return False
            left, right = value, literal
        elif isinstance(literal, str) and kind is bytes:
            encoded = _latin1(literal)
            if encoded is None:
                return True  # the matcher's "false" result, which NOT then inverts
            left, right = value, encoded
        elif isinstance(literal, bytes) and kind is str:
            encoded = _latin1(value)
            if encoded is None:
                return True
            left, right = encoded, literal
        elif type(literal) is kind and kind is not bool:
            left, right = value, literal
        else:
            return False
    return int(left > right) - int(left < right)


_ORDER_TESTS: dict[Operator, Callable[[int], bool]] = {
    Operator.LT: lambda c: c < 0,
    Operator.LE: lambda c: c <= 0,
    Operator.GT: lambda c: c > 0,
    Operator.GE: lambda c: c >= 0,
}


def _equality_predicate(comparison: Comparison, literal: LiteralValue) -> ValuePredicate:
    flip = (comparison.operator is Operator.NEQ) != comparison.negated

    def test(value: Any) -> bool:
        result = _equals(literal, value)
        return False if result is None else result != flip

    return test


def _order_predicate(comparison: Comparison, literal: LiteralValue) -> ValuePredicate:
    holds = _ORDER_TESTS[comparison.operator]
    negated = comparison.negated

    def test(value: Any) -> bool:
        outcome = _order(literal, value)
        if outcome is None or outcome is False:
            return False
        if outcome is True:  # binary vs. wide string: false, then NOT applies
            return negated
        return holds(outcome) != negated

    return test


def _set_predicate(comparison: Comparison) -> tuple[ValuePredicate, str | None]:
    values = [member.value for member in comparison.members]
    if any(value is None for value in values):
        return _never, "a set member is not a real date and time"
    kinds = {type(value) for value in values}
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if len(kinds) > 1 and not numbers:
        return _never, "the set mixes literal types"
    members = frozenset(values)
    timestamps = bool(values) and isinstance(values[0], datetime)
    negated = comparison.negated

    def test(value: Any) -> bool:
        if timestamps and isinstance(value, str):
            value = _as_timestamp(value)
            if value is _ERROR:
                return False
        try:
            found = value in members
        except TypeError:  # lists and dictionaries are never members
            found = False
        return found != negated

    return test, None


def _like_predicate(comparison: Comparison, pattern: str) -> tuple[ValuePredicate, str | None]:
    # The regex starts with ^, so searching is matching; RE2 keeps it linear (``%a%a%a…``).
    regex = like_to_regex(unicodedata.normalize("NFC", pattern))
    try:
        search = compile_regex(regex).search_text
    except RegexRefused as exc:
        return _never, f"LIKE pattern cannot be used: {exc}"
    binary_ok = all(ord(c) < 256 for c in regex)
    negated = comparison.negated

    def test(value: Any) -> bool:
        if isinstance(value, bytes) and binary_ok:
            try:
                value = value.decode("utf8")
            except UnicodeDecodeError:
                return False
        found: object = False
        if isinstance(value, str):
            try:
                found = search(unicodedata.normalize("NFC", value))
            except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for RE2 to read
                found = False
        return bool(found) != negated

    return test, None


def _regex_predicate(comparison: Comparison, pattern: str) -> tuple[ValuePredicate, str | None]:
    # Python re's meaning, as stix2-matcher gives it, evaluated in linear time by RE2 (regex.py).
    try:
        regex = compile_regex(unicodedata.normalize("NFC", pattern))
    except RegexRefused as exc:
        return _never, f"MATCHES regular expression cannot be used: {exc}"
    search_text, search_bytes = regex.search_text, regex.search_bytes
    negated = comparison.negated

    def test(value: Any) -> bool:
        found: object = False
        if isinstance(value, str):
            try:
                found = search_text(unicodedata.normalize("NFC", value))
            except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for RE2 to read
                found = False
        elif isinstance(value, bytes) and search_bytes is not None:
            found = search_bytes(value)
        return bool(found) != negated

    return test, None


def _network_predicate(comparison: Comparison, literal: str) -> ValuePredicate:
    subset = comparison.operator is Operator.ISSUBSET
    negated = comparison.negated

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return negated
        inside = subset_of(value, literal) if subset else subset_of(literal, value)
        return False if inside is None else inside != negated

    return test


def value_predicate(comparison: Comparison) -> tuple[ValuePredicate, str | None]:
    """The predicate on one selected value, and why it can never be evaluated (or None)."""
    operator = comparison.operator
    if operator is Operator.IN:
        return _set_predicate(comparison)
    assert comparison.literal is not None
    literal = comparison.literal.value
    if literal is None:
        return _never, f"{comparison.literal.text} is not a real date and time"
    if operator is Operator.EQ or operator is Operator.NEQ:
        return _equality_predicate(comparison, literal), None
    if operator in _ORDER_TESTS:
        return _order_predicate(comparison, literal), None
    assert isinstance(literal, str)
    if operator is Operator.LIKE:
        return _like_predicate(comparison, literal)
    if operator is Operator.MATCHES:
        return _regex_predicate(comparison, literal)
    return _network_predicate(comparison, literal), None


def comparison_problem(comparison: Comparison) -> str | None:
    """Why stix2-matcher would refuse this comparison whatever the data, or None."""
    operator = comparison.operator
    if operator is Operator.IN or operator is Operator.LIKE or operator is Operator.MATCHES:
        return value_predicate(comparison)[1]
    assert comparison.literal is not None
    if comparison.literal.value is None:
        return f"{comparison.literal.text} is not a real date and time"
    return None
