"""``compile_pattern``: text to a checked, evaluable, indexable STIX 2.1 pattern (§9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kizuna.core.patterns.ast import ObservationExpression
from kizuna.core.patterns.conformance import check_conformance
from kizuna.core.patterns.evaluate import Plan, plan, satisfied
from kizuna.core.patterns.keys import Keys, pattern_keys
from kizuna.core.patterns.observation import Observation
from kizuna.core.patterns.parser import parse


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPattern:
    """A valid pattern: its syntax tree, evaluation plan and index keys.

    ``problems`` lists why stix2-matcher would refuse to evaluate it whatever the data (an
    impossible date, a mixed ``IN`` set, a bad regular expression, ``REPEATS 0``, ``WITHIN 0``);
    such a pattern is valid STIX but never matches. ``keys`` is None when the pattern must always
    be evaluated, else values one of which a matching observation must contain (see ``keys``).
    """

    text: str
    root: ObservationExpression
    plan: Plan
    problems: tuple[str, ...]
    keys: Keys | None

    def matches(self, observations: Sequence[Observation]) -> bool:
        """Whether the observations, taken together, satisfy the pattern."""
        if self.problems:
            return False
        return satisfied(self.plan, observations)

    @property
    def indexable(self) -> bool:
        """Whether an index can find this pattern's candidates by key."""
        return self.keys is not None


def compile_pattern(text: str) -> CompiledPattern:
    """Compile a STIX 2.1 pattern; raise ``InvalidPattern`` (position, reason) if it is invalid.

    The accepted language is exactly that of stix2-patterns' ``run_validator`` (2.1): its
    grammar plus its checks on leading brackets, hash digests and repeated qualifiers.
    """
    root = parse(text)
    check_conformance(root, text)
    problems: list[str] = []
    compiled_plan = plan(root, problems)
    keys = frozenset() if problems else pattern_keys(root)
    return CompiledPattern(text, root, compiled_plan, tuple(problems), keys)
