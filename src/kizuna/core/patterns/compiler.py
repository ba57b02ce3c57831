"""``compile_pattern``: text to a checked, evaluable, indexable STIX 2.1 pattern (§9)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from kizuna.core.patterns.ast import ObservationExpression, Operator
from kizuna.core.patterns.conformance import check_conformance
from kizuna.core.patterns.errors import InvalidPattern
from kizuna.core.patterns.evaluate import Plan, plan, satisfied, static_problems
from kizuna.core.patterns.keys import Keys, pattern_keys
from kizuna.core.patterns.literals import like_to_regex
from kizuna.core.patterns.observation import Observation
from kizuna.core.patterns.parser import ParsedPattern, parse, parse_pattern
from kizuna.core.patterns.regex import RegexRefused, compile_regex


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPattern:
    """A valid pattern: its text, index keys, and (built on first use) syntax tree and plan.

    ``problems`` lists why stix2-matcher would refuse to evaluate it whatever the data (an
    impossible date, a mixed ``IN`` set, a bad regular expression, ``REPEATS 0``, ``WITHIN 0``);
    such a pattern is valid STIX but never matches. ``keys`` is None when the pattern must always
    be evaluated, else values one of which a matching observation must contain (see ``keys``).

    An index holds many patterns and evaluates few, so the syntax tree is not kept after
    compiling: ``root`` re-parses the (known valid) text once, when first asked for.
    """

    text: str
    problems: tuple[str, ...]
    keys: Keys | None
    _root: ObservationExpression | None = field(default=None, init=False, repr=False)
    _plan: Plan | None = field(default=None, init=False, repr=False)

    @property
    def root(self) -> ObservationExpression:
        """The syntax tree."""
        root = self._root
        if root is None:
            root = parse(self.text)
            object.__setattr__(self, "_root", root)  # a cache, not a change of value
        return root

    @property
    def plan(self) -> Plan:
        """The evaluation plan."""
        built = self._plan
        if built is None:
            built = plan(self.root)
            object.__setattr__(self, "_plan", built)  # a cache, not a change of value
        return built

    def matches(self, observations: Sequence[Observation]) -> bool:
        """Whether the observations, taken together, satisfy the pattern."""
        if self.problems:
            return False
        return satisfied(self.plan, observations)

    @property
    def indexable(self) -> bool:
        """Whether an index can find this pattern's candidates by key."""
        return self.keys is not None


def compile_pattern(text: str, *, evaluable: bool = False) -> CompiledPattern:
    """Compile a STIX 2.1 pattern; raise ``InvalidPattern`` (position, reason) if it is invalid.

    The accepted language is exactly that of stix2-patterns' ``run_validator`` (2.1): its
    grammar plus its checks on leading brackets, hash digests and repeated qualifiers. With
    ``evaluable`` (ingest), a ``MATCHES`` or ``LIKE`` expression this node cannot evaluate in
    linear time (a backreference, a lookaround, a bad regex: see ``regex``) is refused too,
    so every stored indicator can be evaluated without letting one value stall the node.
    """
    parsed = parse_pattern(text)
    check_conformance(parsed, text)
    if evaluable:
        _check_regexes(parsed, text)
    problems = tuple(static_problems(parsed))
    keys = frozenset() if problems else pattern_keys(parsed.root)
    return CompiledPattern(text, problems, keys)


def _check_regexes(parsed: ParsedPattern, text: str) -> None:
    """Refuse the first ``MATCHES``/``LIKE`` whose expression ``regex`` cannot evaluate."""
    for comparison in parsed.comparisons:
        literal = comparison.literal
        if literal is None or not isinstance(literal.value, str):
            continue
        value = unicodedata.normalize("NFC", literal.value)
        if comparison.operator is Operator.MATCHES:
            source, what = value, "MATCHES regular expression"
        elif comparison.operator is Operator.LIKE:
            source, what = like_to_regex(value), "LIKE pattern"
        else:
            continue
        try:
            compile_regex(source)
        except RegexRefused as exc:
            position = literal.position
            if exc.position is not None and comparison.operator is Operator.MATCHES:
                position = _text_position(literal.text, exc.position) + literal.position
            reason = f"{what} cannot be used: {exc}"
            raise InvalidPattern(reason, position, pattern=text) from exc


def _text_position(quoted: str, index: int) -> int:
    """Where character ``index`` of a string literal's value sits in its quoted source text."""
    position, seen = 1, 0  # after the opening quote
    while seen < index and position < len(quoted) - 1:
        position += 2 if quoted[position] == "\\" else 1
        seen += 1
    return position
