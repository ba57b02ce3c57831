"""The syntax tree of a STIX 2.1 pattern (§9.5–9.7), as frozen values."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


class Star(enum.Enum):
    """The ``[*]`` list step of an object path (§9.3.3)."""

    STAR = "*"


STAR = Star.STAR

# A step into an object: a property or dictionary key, a list index, or every list element.
Step = str | int | Star

# Python values of literals, typed as stix2-matcher types them (§9.4 literal types).
LiteralValue = int | float | str | bool | bytes | datetime


class LiteralKind(enum.StrEnum):
    """The literal token types of the grammar (§9.4)."""

    INT = "int"
    FLOAT = "float"
    STRING = "string"
    BOOL = "bool"
    BINARY = "binary"
    HEX = "hex"
    TIMESTAMP = "timestamp"


class Operator(enum.StrEnum):
    """Comparison operators (§9.5, table "Comparison Operators")."""

    EQ = "="
    NEQ = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "IN"
    LIKE = "LIKE"
    MATCHES = "MATCHES"
    ISSUBSET = "ISSUBSET"
    ISSUPERSET = "ISSUPERSET"


# Literal and ObjectPath are immutable NamedTuples rather than frozen dataclasses: the compiler
# builds two of each per comparison, and a NamedTuple is about four times cheaper to build.


class Literal(NamedTuple):
    """A constant: its kind, its source text, and its value (None if it has none, e.g. Feb 30)."""

    kind: LiteralKind
    text: str
    value: LiteralValue | None
    position: int


class ObjectPath(NamedTuple):
    """``type:first.step[0]...`` (§9.3): the object type and the steps into the object."""

    object_type: str
    steps: tuple[Step, ...]
    position: int

    def __str__(self) -> str:
        parts = [f"{self.object_type}:"]
        for index, step in enumerate(self.steps):
            if isinstance(step, Star):
                parts.append("[*]")
            elif isinstance(step, int):
                parts.append(f"[{step}]")
            else:
                parts.append(step if index == 0 else f".{step}")
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``path [NOT] op literal``; ``members`` holds the set of an ``IN`` (§9.5)."""

    path: ObjectPath
    operator: Operator
    negated: bool
    literal: Literal | None
    members: tuple[Literal, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Exists:
    """``[NOT] EXISTS path`` (§9.5, STIX 2.1 only)."""

    path: ObjectPath
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class AllOf:
    """Comparisons joined by ``AND``: all must hold for the same object (§9.6)."""

    operands: tuple[ComparisonExpression, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Comparisons joined by ``OR`` (§9.6)."""

    operands: tuple[ComparisonExpression, ...]


ComparisonExpression = Comparison | Exists | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class Observe:
    """``[ comparison expression ]``: one observation expression (§9.6)."""

    expression: ComparisonExpression
    position: int


@dataclass(frozen=True, slots=True)
class ObserveAll:
    """Observation expressions joined by ``AND`` (§9.7)."""

    operands: tuple[ObservationExpression, ...]


@dataclass(frozen=True, slots=True)
class ObserveAny:
    """Observation expressions joined by ``OR`` (§9.7)."""

    operands: tuple[ObservationExpression, ...]


@dataclass(frozen=True, slots=True)
class FollowedBy:
    """``earlier FOLLOWEDBY later`` (§9.7); left-associative, so kept binary."""

    earlier: ObservationExpression
    later: ObservationExpression


@dataclass(frozen=True, slots=True)
class Within:
    """``WITHIN n SECONDS`` (§9.8); ``microseconds`` None when the window overflows datetime."""

    seconds: int | float
    microseconds: int | None
    position: int


@dataclass(frozen=True, slots=True)
class Repeats:
    """``REPEATS n TIMES`` (§9.8)."""

    count: int
    position: int


@dataclass(frozen=True, slots=True)
class StartStop:
    """``START t'..' STOP t'..'`` (§9.8): the observation must fall in [start, stop)."""

    start: Literal
    stop: Literal
    position: int


Qualifier = Within | Repeats | StartStop


@dataclass(frozen=True, slots=True)
class Qualified:
    """An observation expression with one qualifier applied (§9.8)."""

    expression: ObservationExpression
    qualifier: Qualifier


ObservationExpression = Observe | ObserveAll | ObserveAny | FollowedBy | Qualified


def iter_comparisons(expression: ComparisonExpression) -> Iterator[Comparison | Exists]:
    """Every comparison and EXISTS test of a comparison expression, left to right."""
    if isinstance(expression, AllOf | AnyOf):
        for operand in expression.operands:
            yield from iter_comparisons(expression=operand)
    else:
        yield expression


def iter_observations(expression: ObservationExpression) -> Iterator[Observe]:
    """Every ``[...]`` of an observation expression, left to right."""
    if isinstance(expression, Observe):
        yield expression
    elif isinstance(expression, ObserveAll | ObserveAny):
        for operand in expression.operands:
            yield from iter_observations(operand)
    elif isinstance(expression, FollowedBy):
        yield from iter_observations(expression.earlier)
        yield from iter_observations(expression.later)
    else:
        yield from iter_observations(expression.expression)


def iter_qualifiers(expression: ObservationExpression) -> Iterator[Qualifier]:
    """Every qualifier of an observation expression, innermost first."""
    if isinstance(expression, Qualified):
        yield from iter_qualifiers(expression.expression)
        yield expression.qualifier
    elif isinstance(expression, ObserveAll | ObserveAny):
        for operand in expression.operands:
            yield from iter_qualifiers(operand)
    elif isinstance(expression, FollowedBy):
        yield from iter_qualifiers(expression.earlier)
        yield from iter_qualifiers(expression.later)
