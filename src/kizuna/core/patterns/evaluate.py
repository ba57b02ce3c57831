"""Evaluation of compiled patterns against observations (§9.6–9.8), as stix2-matcher does it.

A comparison expression holds for an *object*: ``AND`` needs every comparison to hold for the
same object, ``OR`` any; an observation satisfies ``[...]`` when one of its objects does. Above
that, a match is a *binding*: observation instances assigned to every ``[...]`` that must hold,
where an observed-data with ``number_observed`` n offers n interchangeable instances. ``AND`` and
``FOLLOWEDBY`` need disjoint instances (and ``FOLLOWEDBY`` needs the earlier side's latest
``first_observed`` no later than the later side's earliest ``last_observed``); ``REPEATS n``
needs n disjoint bindings; ``WITHIN`` needs all chosen observations inside one window;
``START``/``STOP`` needs each to overlap [start, stop). Instances of one observation are
interchangeable, so a binding is kept as a multiset: (observation index, count) pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from kizuna.core.patterns.ast import (
    AllOf,
    Comparison,
    ComparisonExpression,
    Exists,
    FollowedBy,
    ObservationExpression,
    Observe,
    ObserveAll,
    ObserveAny,
    Repeats,
    StartStop,
    Within,
)
from kizuna.core.patterns.compare import comparison_problem, value_predicate
from kizuna.core.patterns.literals import to_microseconds
from kizuna.core.patterns.observation import NON_OBSERVABLE_TYPES, JsonObject, Observation
from kizuna.core.patterns.parser import ParsedPattern
from kizuna.core.patterns.paths import resolve

ObjectTest = Callable[[JsonObject, Mapping[str, JsonObject]], bool]
Binding = tuple[tuple[int, int], ...]


def _never(_obj: JsonObject, _objects: Mapping[str, JsonObject]) -> bool:
    return False


def _comparison_test(comparison: Comparison) -> ObjectTest:
    """The test one comparison makes of an object of its type."""
    predicate, _ = value_predicate(comparison)
    object_type = comparison.path.object_type
    steps = comparison.path.steps
    if object_type in NON_OBSERVABLE_TYPES:
        return _never

    def test(obj: JsonObject, objects: Mapping[str, JsonObject]) -> bool:
        if obj.get("type") != object_type:
            return False
        return any(predicate(value) for value in resolve(obj, steps, objects))

    return test


def _exists_test(exists: Exists) -> ObjectTest:
    """``[NOT] EXISTS``: whether the path selects anything from an object of its type."""
    object_type = exists.path.object_type
    steps = exists.path.steps
    negated = exists.negated
    if object_type in NON_OBSERVABLE_TYPES:
        return _never

    def test(obj: JsonObject, objects: Mapping[str, JsonObject]) -> bool:
        if obj.get("type") != object_type:
            return False
        return bool(resolve(obj, steps, objects)) != negated

    return test


def object_test(expression: ComparisonExpression) -> ObjectTest:
    """Compile a comparison expression into a test of one object."""
    if isinstance(expression, Comparison):
        return _comparison_test(expression)
    if isinstance(expression, Exists):
        return _exists_test(expression)
    tests = tuple(object_test(operand) for operand in expression.operands)
    if isinstance(expression, AllOf):
        return lambda obj, objects: all(test(obj, objects) for test in tests)
    return lambda obj, objects: any(test(obj, objects) for test in tests)


@dataclass(frozen=True, slots=True)
class Leaf:
    """``[...]``: observations with an object passing ``test``."""

    test: ObjectTest

    def holds(self, observation: Observation) -> bool:
        """Whether one of the observation's objects passes."""
        objects = observation.objects
        test = self.test
        return any(test(obj, objects) for obj in objects.values())


@dataclass(frozen=True, slots=True)
class Join:
    """``AND`` (ordered=False) or ``FOLLOWEDBY`` (ordered=True) of observation expressions."""

    operands: tuple[Plan, ...]
    ordered: bool


@dataclass(frozen=True, slots=True)
class Either:
    """``OR`` of observation expressions."""

    operands: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class Window:
    """``WITHIN``: microseconds, or None for a window beyond datetime's range."""

    operand: Plan
    microseconds: int | None


@dataclass(frozen=True, slots=True)
class Repeat:
    """``REPEATS count TIMES``."""

    operand: Plan
    count: int


@dataclass(frozen=True, slots=True)
class During:
    """``START``/``STOP`` in microseconds."""

    operand: Plan
    start_us: int
    stop_us: int


Plan = Leaf | Join | Either | Window | Repeat | During


def static_problems(parsed: ParsedPattern) -> list[str]:
    """Why stix2-matcher would refuse to evaluate the pattern whatever the data (usually none)."""
    problems: list[str] = []
    for comparison in parsed.comparisons:
        problem = comparison_problem(comparison)
        if problem is not None:
            problems.append(problem)
    for qualifier in parsed.qualifiers:
        if isinstance(qualifier, Within) and qualifier.seconds <= 0:
            problems.append("WITHIN needs a positive number of seconds")
        elif isinstance(qualifier, Repeats) and qualifier.count < 1:
            problems.append("REPEATS needs a positive count")
        elif isinstance(qualifier, StartStop) and None in (
            qualifier.start.value,
            qualifier.stop.value,
        ):
            problems.append("START/STOP timestamp is not a real date and time")
    return problems


def plan(expression: ObservationExpression) -> Plan:
    """Compile an observation expression for evaluation (see ``static_problems`` first)."""
    if isinstance(expression, Observe):
        return Leaf(object_test(expression.expression))
    if isinstance(expression, ObserveAll | ObserveAny):
        operands = tuple(plan(operand) for operand in expression.operands)
        return Join(operands, False) if isinstance(expression, ObserveAll) else Either(operands)
    if isinstance(expression, FollowedBy):
        return Join((plan(expression.earlier), plan(expression.later)), True)
    operand = plan(expression.expression)
    qualifier = expression.qualifier
    if isinstance(qualifier, Within):
        return Window(operand, qualifier.microseconds)
    if isinstance(qualifier, Repeats):
        return Repeat(operand, max(qualifier.count, 1))
    start, stop = qualifier.start.value, qualifier.stop.value
    if not isinstance(start, datetime) or not isinstance(stop, datetime):
        return During(operand, 0, 0)  # never satisfiable; static_problems reports it
    return During(operand, to_microseconds(start), to_microseconds(stop))


class _Bindings:
    """Binding sets of one evaluation over one list of observations."""

    __slots__ = ("first", "last", "limit", "observations")

    def __init__(self, observations: Sequence[Observation]) -> None:
        self.observations = observations
        self.first = [o.first_observed_us for o in observations]
        self.last = [o.last_observed_us for o in observations]
        self.limit = [o.number_observed for o in observations]

    def merge(self, left: Binding, right: Binding) -> Binding | None:
        """The union of two bindings, or None if it needs more instances than observed."""
        counts = dict(left)
        for index, count in right:
            total = counts.get(index, 0) + count
            if total > self.limit[index]:
                return None
            counts[index] = total
        return tuple(sorted(counts.items()))

    def join(self, lefts: set[Binding], rights: set[Binding], ordered: bool) -> set[Binding]:
        """Disjoint unions of a left and a right binding (time-ordered for FOLLOWEDBY)."""
        first, last = self.first, self.last
        joined: set[Binding] = set()
        for left in lefts:
            latest_first = max(first[index] for index, _ in left)
            for right in rights:
                if ordered and latest_first > min(last[index] for index, _ in right):
                    continue
                merged = self.merge(left, right)
                if merged is not None:
                    joined.add(merged)
        return joined

    def repeat(self, base: set[Binding], count: int) -> set[Binding]:
        """Sums of ``count`` disjoint bindings of ``base``, by repeated squaring."""
        if count > sum(self.limit):  # every binding takes at least one instance
            return set()
        result: set[Binding] | None = None
        square = base
        while count:
            if count & 1:
                result = square if result is None else self.join(result, square, False)
            count >>= 1
            if count:
                square = self.join(square, square, False)
                if not square:
                    return set()
        return result if result is not None else set()

    def of(self, node: Plan) -> set[Binding]:
        """Every binding satisfying ``node``."""
        if isinstance(node, Leaf):
            return {((i, 1),) for i, o in enumerate(self.observations) if node.holds(o)}
        if isinstance(node, Either):
            return set().union(*(self.of(operand) for operand in node.operands))
        if isinstance(node, Join):
            bindings = self.of(node.operands[0])
            for operand in node.operands[1:]:
                if not bindings:
                    break
                bindings = self.join(bindings, self.of(operand), node.ordered)
            return bindings
        if isinstance(node, Repeat):
            return self.repeat(self.of(node.operand), node.count)
        bindings = self.of(node.operand)
        first, last = self.first, self.last
        if isinstance(node, Window):
            width = node.microseconds
            if width is None:
                return bindings
            return {
                b
                for b in bindings
                if max(first[i] for i, _ in b) <= min(last[i] for i, _ in b) + width
            }
        start, stop = node.start_us, node.stop_us
        if start >= stop:
            return set()
        # Overlap with [start, stop): touching stop is outside, touching start inside (§9.8).
        return {b for b in bindings if all(first[i] < stop and last[i] >= start for i, _ in b)}


def satisfied(root: Plan, observations: Sequence[Observation]) -> bool:
    """Whether ``observations`` satisfy the compiled pattern ``root``."""
    if isinstance(root, Leaf):
        return any(root.holds(observation) for observation in observations)
    if isinstance(root, Either):  # OR needs one side only: no bindings to combine
        return any(satisfied(operand, observations) for operand in root.operands)
    return bool(_Bindings(observations).of(root))
