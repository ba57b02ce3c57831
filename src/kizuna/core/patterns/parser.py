"""Recursive-descent parser for STIX 2.1 patterns (§9), accepting exactly the OASIS grammar.

The grammar is ``STIXPattern.g4`` of stix2-patterns 2.1; its left-recursive rules become loops
here (``AND`` binds tighter than ``OR``, which binds tighter than ``FOLLOWEDBY``; qualifiers bind
tightest and may repeat). The validator's extra rules live in ``conformance``. Tokens are plain
tuples read by index (``KIND``, ``TEXT``, ``START``): this is the compiler's hot loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.core.patterns.ast import (
    STAR,
    AllOf,
    AnyOf,
    Comparison,
    ComparisonExpression,
    Exists,
    FollowedBy,
    Literal,
    ObjectPath,
    ObservationExpression,
    Observe,
    ObserveAll,
    ObserveAny,
    Operator,
    Qualified,
    Qualifier,
    Repeats,
    StartStop,
    Step,
    Within,
)
from kizuna.core.patterns.errors import InvalidPattern
from kizuna.core.patterns.lexer import KIND, START, TEXT, Token, TokenKind, tokenize
from kizuna.core.patterns.literals import (
    LITERAL_KINDS,
    literal_value,
    unescape_string,
    within_microseconds,
)

# Deeper nesting is refused rather than risking Python's recursion limit (see the tests).
MAX_NESTING = 100

K = TokenKind
_ORDERABLE = frozenset(kind for kind in LITERAL_KINDS if kind is not K.BoolLiteral)
_PRIMITIVE = frozenset(LITERAL_KINDS)
_IDENTIFIERS = frozenset({K.IdentifierWithoutHyphen, K.IdentifierWithHyphen})
_QUALIFIERS = frozenset({K.START, K.WITHIN, K.REPEATS})
_WITHIN_AMOUNTS = frozenset({K.IntPosLiteral, K.FloatPosLiteral})
_OPERATORS = {
    K.EQ: Operator.EQ,
    K.NEQ: Operator.NEQ,
    K.LT: Operator.LT,
    K.LE: Operator.LE,
    K.GT: Operator.GT,
    K.GE: Operator.GE,
    K.IN: Operator.IN,
    K.LIKE: Operator.LIKE,
    K.MATCHES: Operator.MATCHES,
    K.ISSUBSET: Operator.ISSUBSET,
    K.ISSUPERSET: Operator.ISSUPERSET,
}
_STRING_OPERATORS = frozenset(
    {Operator.LIKE, Operator.MATCHES, Operator.ISSUBSET, Operator.ISSUPERSET}
)
_ORDER_OPERATORS = frozenset({Operator.LT, Operator.LE, Operator.GT, Operator.GE})
_KEY_WANTED = "a property name (letters, digits, '_') or a quoted key"


def describe(token: Token) -> str:
    """A token as an error message names it."""
    return "the end of the pattern" if token[KIND] is K.EOF else repr(token[TEXT])


@dataclass(frozen=True, slots=True)
class ParsedPattern:
    """A syntax tree, with its comparisons and qualifiers listed in source order."""

    root: ObservationExpression
    comparisons: tuple[Comparison, ...]
    qualifiers: tuple[Qualifier, ...]


class _Parser:
    """One parse of one pattern text."""

    __slots__ = ("comparisons", "depth", "index", "qualifiers", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.comparisons: list[Comparison] = []
        self.qualifiers: list[Qualifier] = []

    def fail(self, reason: str, token: Token | None = None) -> InvalidPattern:
        """An ``InvalidPattern`` at ``token`` (default: the current one)."""
        at = token if token is not None else self.tokens[self.index]
        return InvalidPattern(reason, at[START], pattern=self.text)

    def take(self, kinds: frozenset[TokenKind], wanted: str) -> Token:
        """Consume the current token if it is one of ``kinds``; refuse the pattern otherwise."""
        token = self.tokens[self.index]
        if token[KIND] not in kinds:
            raise self.fail(f"expected {wanted}, found {describe(token)}")
        self.index += 1
        return token

    def take_one(self, kind: TokenKind, wanted: str) -> Token:
        """Consume a token of ``kind``."""
        token = self.tokens[self.index]
        if token[KIND] is not kind:
            raise self.fail(f"expected {wanted}, found {describe(token)}")
        self.index += 1
        return token

    def literal(self, token: Token) -> Literal:
        """A ``Literal`` from a literal token."""
        kind, text, start = token
        return Literal(LITERAL_KINDS[kind], text, literal_value(kind, text), start)

    # -- observation expressions (§9.7) -------------------------------------------------------

    def pattern(self) -> ParsedPattern:
        """``pattern : observationExpressions EOF``."""
        root = self.followed_by()
        token = self.tokens[self.index]
        if token[KIND] is not K.EOF:
            raise self.fail(f"expected AND, OR, FOLLOWEDBY or a qualifier, found {describe(token)}")
        return ParsedPattern(root, tuple(self.comparisons), tuple(self.qualifiers))

    def followed_by(self) -> ObservationExpression:
        """``FOLLOWEDBY`` is left-associative and binds loosest."""
        left = self.observe_any()
        while self.tokens[self.index][KIND] is K.FOLLOWEDBY:
            self.index += 1
            left = FollowedBy(left, self.observe_any())
        return left

    def observe_any(self) -> ObservationExpression:
        """Observation expressions joined by ``OR``."""
        first = self.observe_all()
        if self.tokens[self.index][KIND] is not K.OR:
            return first
        operands = [first]
        while self.tokens[self.index][KIND] is K.OR:
            self.index += 1
            operands.append(self.observe_all())
        return ObserveAny(tuple(operands))

    def observe_all(self) -> ObservationExpression:
        """Observation expressions joined by ``AND``."""
        first = self.qualified()
        if self.tokens[self.index][KIND] is not K.AND:
            return first
        operands = [first]
        while self.tokens[self.index][KIND] is K.AND:
            self.index += 1
            operands.append(self.qualified())
        return ObserveAll(tuple(operands))

    def qualified(self) -> ObservationExpression:
        """``[...]`` or ``(...)``, then any number of qualifiers (§9.8)."""
        tokens = self.tokens
        kind, _, start = tokens[self.index]
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"more than {MAX_NESTING} levels of nesting")
        expression: ObservationExpression
        if kind is K.LBRACK:
            self.index += 1
            expression = Observe(self.any_of(), start)
            self.take_one(K.RBRACK, "']' or AND/OR")
        elif kind is K.LPAREN:
            self.index += 1
            expression = self.followed_by()
            self.take_one(K.RPAREN, "')' or AND/OR/FOLLOWEDBY")
        else:
            raise self.fail(f"expected '[' or '(', found {describe(tokens[self.index])}")
        self.depth -= 1
        if tokens[self.index][KIND] in _QUALIFIERS:
            return self.qualifiers_of(expression, simple=kind is K.LBRACK)
        return expression

    def qualifiers_of(self, expression: ObservationExpression, simple: bool) -> Qualified:
        """Apply the qualifiers that follow an observation expression, innermost first."""
        seen: set[type[Qualifier]] = set()
        while self.tokens[self.index][KIND] in _QUALIFIERS:
            qualifier = self.qualifier()
            # stix2-patterns refuses a qualifier type repeated directly on [...]; not on (...).
            if simple and type(qualifier) in seen:
                raise InvalidPattern(
                    "the same qualifier type twice on one observation expression",
                    qualifier.position,
                    pattern=self.text,
                )
            seen.add(type(qualifier))
            self.qualifiers.append(qualifier)
            expression = Qualified(expression, qualifier)
        assert isinstance(expression, Qualified)
        return expression

    def qualifier(self) -> Qualifier:
        """``WITHIN n SECONDS``, ``REPEATS n TIMES`` or ``START t'..' STOP t'..'`` (§9.8)."""
        kind, _, start = self.tokens[self.index]
        self.index += 1
        if kind is K.WITHIN:
            amount = self.take(_WITHIN_AMOUNTS, "a positive number of seconds")
            self.take_one(K.SECONDS, "SECONDS")
            text = amount[TEXT]
            seconds = int(text) if amount[KIND] is K.IntPosLiteral else float(text)
            return Within(seconds, within_microseconds(seconds), start)
        if kind is K.REPEATS:
            count = self.take_one(K.IntPosLiteral, "a positive integer")
            self.take_one(K.TIMES, "TIMES")
            return Repeats(int(count[TEXT]), start)
        first = self.literal(self.take_one(K.TimestampLiteral, "a timestamp t'...'"))
        self.take_one(K.STOP, "STOP")
        last = self.literal(self.take_one(K.TimestampLiteral, "a timestamp t'...'"))
        return StartStop(first, last, start)

    # -- comparison expressions (§9.5, §9.6) --------------------------------------------------

    def any_of(self) -> ComparisonExpression:
        """Comparisons joined by ``OR``."""
        first = self.all_of()
        if self.tokens[self.index][KIND] is not K.OR:
            return first
        operands = [first]
        while self.tokens[self.index][KIND] is K.OR:
            self.index += 1
            operands.append(self.all_of())
        return AnyOf(tuple(operands))

    def all_of(self) -> ComparisonExpression:
        """Comparisons joined by ``AND``, which binds tighter than ``OR``."""
        first = self.prop_test()
        if self.tokens[self.index][KIND] is not K.AND:
            return first
        operands = [first]
        while self.tokens[self.index][KIND] is K.AND:
            self.index += 1
            operands.append(self.prop_test())
        return AllOf(tuple(operands))

    def prop_test(self) -> ComparisonExpression:
        """One comparison, ``[NOT] EXISTS path``, or a parenthesised comparison expression."""
        tokens = self.tokens
        kind, _, start = tokens[self.index]
        if kind not in _IDENTIFIERS:
            return self.other_prop_test()
        path = self.object_path()
        kind = tokens[self.index][KIND]
        negated = kind is K.NOT
        if negated:
            self.index += 1
            kind = tokens[self.index][KIND]
        operator = _OPERATORS.get(kind)
        if operator is None:
            raise self.fail(f"expected a comparison operator, found {describe(tokens[self.index])}")
        start = tokens[self.index][START]
        self.index += 1
        if operator is Operator.IN:
            comparison = Comparison(path, operator, negated, None, self.set_literal(), start)
        else:
            if operator in _STRING_OPERATORS:
                token = self.take_one(K.StringLiteral, f"a string after {operator.value}")
            elif operator in _ORDER_OPERATORS:
                token = self.take(_ORDERABLE, "a number, string, binary or timestamp literal")
            else:
                token = self.take(_PRIMITIVE, "a literal")
            comparison = Comparison(path, operator, negated, self.literal(token), (), start)
        self.comparisons.append(comparison)
        return comparison

    def other_prop_test(self) -> ComparisonExpression:
        """``( comparison expression )`` or ``[NOT] EXISTS path``."""
        kind, _, start = self.tokens[self.index]
        if kind is K.LPAREN:
            self.index += 1
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.fail(f"more than {MAX_NESTING} levels of nesting")
            inner = self.any_of()
            self.take_one(K.RPAREN, "')' or AND/OR")
            self.depth -= 1
            return inner
        if kind is K.NOT or kind is K.EXISTS:
            self.index += 1
            if kind is K.NOT:
                self.take_one(K.EXISTS, "EXISTS")
            return Exists(self.object_path(), kind is K.NOT, start)
        raise self.fail(
            f"expected an object path, EXISTS or '(', found {describe(self.tokens[self.index])}"
        )

    def set_literal(self) -> tuple[Literal, ...]:
        """``( literal, ... )``, possibly empty."""
        self.take_one(K.LPAREN, "'(' opening a set")
        if self.tokens[self.index][KIND] is K.RPAREN:
            self.index += 1
            return ()
        members = [self.literal(self.take(_PRIMITIVE, "a literal"))]
        while self.tokens[self.index][KIND] is K.COMMA:
            self.index += 1
            members.append(self.literal(self.take(_PRIMITIVE, "a literal")))
        self.take_one(K.RPAREN, "',' or ')'")
        return tuple(members)

    def object_path(self) -> ObjectPath:
        """``type:property`` then ``.key``, ``.'quoted key'``, ``[n]`` or ``[*]`` steps (§9.3)."""
        tokens = self.tokens
        index = self.index
        kind, object_type, start = tokens[index]
        if kind not in _IDENTIFIERS:
            raise self.fail(f"expected an object type, found {describe(tokens[index])}")
        if tokens[index + 1][KIND] is not K.COLON:
            self.index = index + 1
            raise self.fail(
                f"expected ':' after the object type, found {describe(tokens[index + 1])}"
            )
        self.index = index + 2
        steps: list[Step] = [self.key()]
        while True:
            kind = tokens[self.index][KIND]
            if kind is K.DOT:
                self.index += 1
                steps.append(self.key())
            elif kind is K.LBRACK:
                self.index += 1
                steps.append(self.list_index())
            else:
                return ObjectPath(object_type, tuple(steps), start)

    def key(self) -> str:
        """A property name or a quoted dictionary key."""
        kind, text, _ = token = self.tokens[self.index]
        if kind is K.IdentifierWithoutHyphen:
            self.index += 1
            return text
        if kind is K.StringLiteral:
            self.index += 1
            return unescape_string(text)
        raise self.fail(f"expected {_KEY_WANTED}, found {describe(token)}")

    def list_index(self) -> Step:
        """``n]`` or ``*]`` after a ``[`` in an object path."""
        kind, text, _ = token = self.tokens[self.index]
        if kind is K.IntPosLiteral:
            step: Step = int(text)
        elif kind is K.ASTERISK:
            step = STAR
        elif kind is K.IntNegLiteral:
            # The grammar admits it, but stix2-patterns' inspector crashes on it (§9.3.3 indexes
            # are non-negative): refuse it.
            raise self.fail("a list index must not be negative", token)
        else:
            raise self.fail(f"expected a list index or '*', found {describe(token)}")
        self.index += 1
        self.take_one(K.RBRACK, "']' closing the list index")
        return step


def parse_pattern(text: str) -> ParsedPattern:
    """Parse a pattern; raise ``InvalidPattern`` if the grammar refuses it."""
    return _Parser(text).pattern()


def parse(text: str) -> ObservationExpression:
    """The syntax tree of a pattern (see ``parse_pattern``)."""
    return _Parser(text).pattern().root
