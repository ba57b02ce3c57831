"""Recursive-descent parser for STIX 2.1 patterns (§9), accepting exactly the OASIS grammar.

The grammar is ``STIXPattern.g4`` of stix2-patterns 2.1; its left-recursive rules become loops
here (``AND`` binds tighter than ``OR``, which binds tighter than ``FOLLOWEDBY``; qualifiers bind
tightest and may repeat). The validator's extra rules live in ``conformance``.
"""

from __future__ import annotations

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
from kizuna.core.patterns.lexer import Token, TokenKind, tokenize
from kizuna.core.patterns.literals import (
    LITERAL_KINDS,
    make_literal,
    unescape_string,
    within_microseconds,
)

# Deeper nesting is refused rather than risking Python's recursion limit (see the tests).
MAX_NESTING = 100

K = TokenKind
_ORDERABLE = frozenset(kind for kind in LITERAL_KINDS if kind is not K.BoolLiteral)
_PRIMITIVE = frozenset(LITERAL_KINDS)
_IDENTIFIERS = frozenset({K.IdentifierWithoutHyphen, K.IdentifierWithHyphen})
_KEYS = frozenset({K.IdentifierWithoutHyphen, K.StringLiteral})
_QUALIFIERS = frozenset({K.START, K.WITHIN, K.REPEATS})
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


def describe(token: Token) -> str:
    """A token as an error message names it."""
    return "the end of the pattern" if token.kind is K.EOF else repr(token.text)


class _Parser:
    """One parse of one pattern text."""

    __slots__ = ("depth", "index", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    def fail(self, reason: str, token: Token | None = None) -> InvalidPattern:
        """An ``InvalidPattern`` at ``token`` (default: the current one)."""
        at = token if token is not None else self.tokens[self.index]
        return InvalidPattern(reason, at.start, pattern=self.text)

    def expect(self, kinds: frozenset[TokenKind], wanted: str) -> Token:
        """Consume the current token if it is one of ``kinds``; refuse the pattern otherwise."""
        token = self.tokens[self.index]
        if token.kind not in kinds:
            raise self.fail(f"expected {wanted}, found {describe(token)}")
        self.index += 1
        return token

    def expect_one(self, kind: TokenKind, wanted: str) -> Token:
        """Consume a token of ``kind``."""
        token = self.tokens[self.index]
        if token.kind is not kind:
            raise self.fail(f"expected {wanted}, found {describe(token)}")
        self.index += 1
        return token

    def nest(self) -> None:
        """Count one level of parentheses or brackets."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"more than {MAX_NESTING} levels of nesting")

    # -- observation expressions (§9.7) -------------------------------------------------------

    def pattern(self) -> ObservationExpression:
        """``pattern : observationExpressions EOF``."""
        root = self.followed_by()
        token = self.tokens[self.index]
        if token.kind is not K.EOF:
            raise self.fail(f"expected AND, OR, FOLLOWEDBY or a qualifier, found {describe(token)}")
        return root

    def followed_by(self) -> ObservationExpression:
        """``FOLLOWEDBY`` is left-associative and binds loosest."""
        left = self.observe_any()
        while self.tokens[self.index].kind is K.FOLLOWEDBY:
            self.index += 1
            left = FollowedBy(left, self.observe_any())
        return left

    def observe_any(self) -> ObservationExpression:
        """Observation expressions joined by ``OR``."""
        first = self.observe_all()
        if self.tokens[self.index].kind is not K.OR:
            return first
        operands = [first]
        while self.tokens[self.index].kind is K.OR:
            self.index += 1
            operands.append(self.observe_all())
        return ObserveAny(tuple(operands))

    def observe_all(self) -> ObservationExpression:
        """Observation expressions joined by ``AND``."""
        first = self.qualified()
        if self.tokens[self.index].kind is not K.AND:
            return first
        operands = [first]
        while self.tokens[self.index].kind is K.AND:
            self.index += 1
            operands.append(self.qualified())
        return ObserveAll(tuple(operands))

    def qualified(self) -> ObservationExpression:
        """``[...]`` or ``(...)``, then any number of qualifiers (§9.8)."""
        token = self.tokens[self.index]
        self.nest()
        expression: ObservationExpression
        if token.kind is K.LBRACK:
            self.index += 1
            expression = Observe(self.any_of(), token.start)
            self.expect_one(K.RBRACK, "']' or AND/OR")
            # stix2-patterns refuses a qualifier type repeated directly on [...]; not on (...).
            seen: set[type[Qualifier]] | None = set()
        elif token.kind is K.LPAREN:
            self.index += 1
            expression = self.followed_by()
            self.expect_one(K.RPAREN, "')' or AND/OR/FOLLOWEDBY")
            seen = None
        else:
            raise self.fail(f"expected '[' or '(', found {describe(token)}")
        self.depth -= 1
        while self.tokens[self.index].kind in _QUALIFIERS:
            qualifier = self.qualifier()
            if seen is not None:
                if type(qualifier) in seen:
                    raise InvalidPattern(
                        "the same qualifier type twice on one observation expression",
                        qualifier.position,
                        pattern=self.text,
                    )
                seen.add(type(qualifier))
            expression = Qualified(expression, qualifier)
        return expression

    def qualifier(self) -> Qualifier:
        """``WITHIN n SECONDS``, ``REPEATS n TIMES`` or ``START t'..' STOP t'..'`` (§9.8)."""
        token = self.tokens[self.index]
        self.index += 1
        if token.kind is K.WITHIN:
            amount = self.expect(
                frozenset({K.IntPosLiteral, K.FloatPosLiteral}), "a positive number of seconds"
            )
            self.expect_one(K.SECONDS, "SECONDS")
            seconds = int(amount.text) if amount.kind is K.IntPosLiteral else float(amount.text)
            return Within(seconds, within_microseconds(seconds), token.start)
        if token.kind is K.REPEATS:
            count = self.expect_one(K.IntPosLiteral, "a positive integer")
            self.expect_one(K.TIMES, "TIMES")
            return Repeats(int(count.text), token.start)
        start = self.expect_one(K.TimestampLiteral, "a timestamp t'...'")
        self.expect_one(K.STOP, "STOP")
        stop = self.expect_one(K.TimestampLiteral, "a timestamp t'...'")
        return StartStop(make_literal(start), make_literal(stop), token.start)

    # -- comparison expressions (§9.5, §9.6) --------------------------------------------------

    def any_of(self) -> ComparisonExpression:
        """Comparisons joined by ``OR``."""
        first = self.all_of()
        if self.tokens[self.index].kind is not K.OR:
            return first
        operands = [first]
        while self.tokens[self.index].kind is K.OR:
            self.index += 1
            operands.append(self.all_of())
        return AnyOf(tuple(operands))

    def all_of(self) -> ComparisonExpression:
        """Comparisons joined by ``AND``, which binds tighter than ``OR``."""
        first = self.prop_test()
        if self.tokens[self.index].kind is not K.AND:
            return first
        operands = [first]
        while self.tokens[self.index].kind is K.AND:
            self.index += 1
            operands.append(self.prop_test())
        return AllOf(tuple(operands))

    def prop_test(self) -> ComparisonExpression:
        """One comparison, ``[NOT] EXISTS path``, or a parenthesised comparison expression."""
        token = self.tokens[self.index]
        kind = token.kind
        if kind is K.LPAREN:
            self.index += 1
            self.nest()
            inner = self.any_of()
            self.expect_one(K.RPAREN, "')' or AND/OR")
            self.depth -= 1
            return inner
        if kind is K.NOT or kind is K.EXISTS:
            self.index += 1
            if kind is K.NOT:
                self.expect_one(K.EXISTS, "EXISTS")
            return Exists(self.object_path(), kind is K.NOT, token.start)
        if kind not in _IDENTIFIERS:
            raise self.fail(f"expected an object path, EXISTS or '(', found {describe(token)}")
        path = self.object_path()
        negated = self.tokens[self.index].kind is K.NOT
        if negated:
            self.index += 1
        op_token = self.tokens[self.index]
        operator = _OPERATORS.get(op_token.kind)
        if operator is None:
            raise self.fail(f"expected a comparison operator, found {describe(op_token)}")
        self.index += 1
        if operator is Operator.IN:
            return Comparison(path, operator, negated, None, self.set_literal(), op_token.start)
        if operator in _STRING_OPERATORS:
            literal = self.expect_one(K.StringLiteral, f"a string after {operator.value}")
        elif operator in _ORDER_OPERATORS:
            literal = self.expect(_ORDERABLE, "a number, string, binary or timestamp literal")
        else:
            literal = self.expect(_PRIMITIVE, "a literal")
        return Comparison(path, operator, negated, make_literal(literal), (), op_token.start)

    def set_literal(self) -> tuple[Literal, ...]:
        """``( literal, ... )``, possibly empty."""
        self.expect_one(K.LPAREN, "'(' opening a set")
        members: list[Literal] = []
        if self.tokens[self.index].kind is K.RPAREN:
            self.index += 1
            return ()
        members.append(make_literal(self.expect(_PRIMITIVE, "a literal")))
        while self.tokens[self.index].kind is K.COMMA:
            self.index += 1
            members.append(make_literal(self.expect(_PRIMITIVE, "a literal")))
        self.expect_one(K.RPAREN, "',' or ')'")
        return tuple(members)

    def object_path(self) -> ObjectPath:
        """``type:property`` then ``.key``, ``.'quoted key'``, ``[n]`` or ``[*]`` steps (§9.3)."""
        type_token = self.expect(_IDENTIFIERS, "an object type")
        self.expect_one(K.COLON, "':' after the object type")
        steps: list[Step] = [self.key()]
        tokens = self.tokens
        while True:
            kind = tokens[self.index].kind
            if kind is K.DOT:
                self.index += 1
                steps.append(self.key())
            elif kind is K.LBRACK:
                self.index += 1
                index = self.expect(
                    frozenset({K.IntPosLiteral, K.IntNegLiteral, K.ASTERISK}), "a list index or '*'"
                )
                if index.kind is K.IntNegLiteral:
                    # The grammar admits it, but stix2-patterns' inspector crashes on it (§9.3.3
                    # indexes are non-negative): refuse it.
                    raise self.fail("a list index must not be negative", index)
                steps.append(STAR if index.kind is K.ASTERISK else int(index.text))
                self.expect_one(K.RBRACK, "']' closing the list index")
            else:
                return ObjectPath(type_token.text, tuple(steps), type_token.start)

    def key(self) -> str:
        """A property name or a quoted dictionary key."""
        token = self.expect(_KEYS, "a property name (letters, digits, '_') or a quoted key")
        return (
            token.text if token.kind is K.IdentifierWithoutHyphen else unescape_string(token.text)
        )


def parse(text: str) -> ObservationExpression:
    """Parse a pattern into its syntax tree; raise ``InvalidPattern`` if the grammar refuses it."""
    return _Parser(text).pattern()
