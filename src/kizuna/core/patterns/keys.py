"""Index keys of a pattern: values one of which any observation it matches must contain.

An equality or ``IN`` comparison yields ``(object type, path, value)`` keys; ``ISSUBSET`` yields
a CIDR block (an interval of addresses). ``OR`` needs the union of its operands' keys;
``AND`` (and ``FOLLOWEDBY``, whose sides must both hold) needs only one operand's keys, the most
selective. A pattern with a part that has no keys (``!=``, ``NOT``, ``LIKE``, ``MATCHES``,
ordering, ``EXISTS``) where keys are needed has none: it must always be evaluated. Keys may
over-select (``1`` finds ``true``, a string finds the same bytes); evaluation decides.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from kizuna.core.patterns.addresses import parse_network
from kizuna.core.patterns.ast import (
    AllOf,
    AnyOf,
    Comparison,
    ComparisonExpression,
    Exists,
    FollowedBy,
    ObservationExpression,
    Observe,
    ObserveAll,
    ObserveAny,
    Operator,
    Step,
)
from kizuna.core.patterns.literals import to_microseconds
from kizuna.core.patterns.observation import NON_OBSERVABLE_TYPES

STRING, NUMBER, TIMESTAMP = "s", "n", "t"


# Keys are immutable NamedTuples (cheap to build and to hash), not frozen dataclasses.


class ValueKey(NamedTuple):
    """An object of ``object_type`` whose ``steps`` select a value equal to ``value``."""

    object_type: str
    steps: tuple[Step, ...]
    value: tuple[str, Hashable]


class RangeKey(NamedTuple):
    """An object of ``object_type`` whose ``steps`` select an address inside a CIDR block."""

    object_type: str
    steps: tuple[Step, ...]
    family: int
    network: int
    prefix: int

    @property
    def interval(self) -> tuple[int, int]:
        """The block as the closed interval [first address, last address]."""
        width = 32 if self.family == 4 else 128
        return self.network, self.network | ((1 << (width - self.prefix)) - 1)


IndexKey = ValueKey | RangeKey
Keys = frozenset[IndexKey]


def canonical(value: Any) -> tuple[str, Hashable] | None:
    """The key form of a value: equal values (in any comparison) give equal key forms."""
    kind = type(value)
    if kind is str:
        return STRING, value
    if kind is int or kind is float:
        return NUMBER, value
    if kind is bool:
        return NUMBER, int(value)
    if kind is bytes:
        # Binary equals a string with the same code points below 256 (§9.4).
        return STRING, value.decode("latin-1")
    if isinstance(value, datetime):
        return TIMESTAMP, to_microseconds(value)
    return None


def _key_cost(key: IndexKey) -> float:
    """Expected share of observations a key selects, in rough units: lower is more selective."""
    if isinstance(key, RangeKey):
        width = 32 if key.family == 4 else 128
        return 1.0 + (width - key.prefix)
    tag, value = key.value
    if tag == NUMBER:
        return 8.0  # ports, sizes, booleans: few distinct values
    if tag == STRING and isinstance(value, str) and len(value) < 4:
        return 4.0
    return 1.0


# Key sets are built as tuples (duplicates allowed) and frozen once, at the end.
_KeyList = tuple[IndexKey, ...]


def _cheapest(options: Iterable[_KeyList | None]) -> _KeyList | None:
    """The most selective of several sufficient key sets (None if none has keys)."""
    best: _KeyList | None = None
    best_cost = 0.0
    for keys in options:
        if keys is None:
            continue
        cost = sum(map(_key_cost, keys))
        if best is None or cost < best_cost:
            best, best_cost = keys, cost
    return best


def _union(options: Iterable[_KeyList | None]) -> _KeyList | None:
    """All keys of every alternative, or None if one alternative has none."""
    keys: list[IndexKey] = []
    for option in options:
        if option is None:
            return None
        keys.extend(option)
    return tuple(keys)


def _comparison_keys(comparison: Comparison) -> _KeyList | None:
    """Keys of one comparison; None when it can hold without any of them."""
    path = comparison.path
    if path.object_type in NON_OBSERVABLE_TYPES:
        return ()  # never selected, so never holds
    if comparison.negated:
        return None
    operator = comparison.operator
    if operator is Operator.EQ or operator is Operator.IN:
        literals = comparison.members if operator is Operator.IN else (comparison.literal,)
        keys = []
        for literal in literals:
            value = None if literal is None else canonical(literal.value)
            if value is None:
                return None
            keys.append(ValueKey(path.object_type, path.steps, value))
        return tuple(keys)
    if operator is Operator.ISSUBSET:
        assert comparison.literal is not None
        block = parse_network(str(comparison.literal.value))
        if block is None:
            return ()  # an unreadable block contains nothing
        network = block.network(block.prefix)
        return (RangeKey(path.object_type, path.steps, block.family, network, block.prefix),)
    return None


def _expression_keys(expression: ComparisonExpression) -> _KeyList | None:
    """Keys of a comparison expression (one object must pass it)."""
    if isinstance(expression, Comparison):
        return _comparison_keys(expression)
    if isinstance(expression, Exists):
        return None
    if isinstance(expression, AllOf):
        return _cheapest(map(_expression_keys, expression.operands))
    assert isinstance(expression, AnyOf)
    return _union(map(_expression_keys, expression.operands))


def _pattern_keys(expression: ObservationExpression) -> _KeyList | None:
    """Keys of an observation expression."""
    if isinstance(expression, Observe):
        return _expression_keys(expression.expression)
    if isinstance(expression, ObserveAll):
        return _cheapest(map(_pattern_keys, expression.operands))
    if isinstance(expression, FollowedBy):
        return _cheapest((_pattern_keys(expression.earlier), _pattern_keys(expression.later)))
    if isinstance(expression, ObserveAny):
        return _union(map(_pattern_keys, expression.operands))
    return _pattern_keys(expression.expression)


def pattern_keys(expression: ObservationExpression) -> Keys | None:
    """Keys of a pattern for matching one observation; None means always evaluate it."""
    keys = _pattern_keys(expression)
    return None if keys is None else frozenset(keys)
