"""The parser builds the right tree (§9.5–9.8) and refuses with a position and a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kizuna.core.patterns import InvalidPattern, compile_pattern
from kizuna.core.patterns.ast import (
    STAR,
    AllOf,
    AnyOf,
    Comparison,
    Exists,
    FollowedBy,
    LiteralKind,
    Observe,
    ObserveAll,
    ObserveAny,
    Operator,
    Qualified,
    Repeats,
    StartStop,
    Within,
)
from kizuna.core.patterns.parser import parse


def only_comparison(text: str) -> Comparison:
    """The single comparison of a one-comparison pattern."""
    root = parse(text)
    assert isinstance(root, Observe)
    assert isinstance(root.expression, Comparison)
    return root.expression


@pytest.mark.parametrize(
    ("text", "object_type", "steps"),
    [
        pytest.param("[file:name = 'x']", "file", ("name",), id="property"),
        pytest.param(
            "[file:hashes.'SHA-256' = 'x']", "file", ("hashes", "SHA-256"), id="quoted-key"
        ),
        pytest.param("[file:hashes.MD5 = 'x']", "file", ("hashes", "MD5"), id="hash-name"),
        pytest.param(
            "[file:extensions.'x-ext'.a[0].b[*] = 'x']",
            "file",
            ("extensions", "x-ext", "a", 0, "b", STAR),
            id="extension-index-star",
        ),
        pytest.param(
            "[x-c:'key with spaces' = 'x']", "x-c", ("key with spaces",), id="quoted-first"
        ),
        pytest.param("[a:b.'it\\'s'.'\\\\' = 'x']", "a", ("b", "it's", "\\"), id="escaped-keys"),
        pytest.param("[a:b[+2] = 'x']", "a", ("b", 2), id="plus-index"),
    ],
)
def test_object_paths(text: str, object_type: str, steps: tuple[object, ...]) -> None:
    """Types, keys, quoted keys and list steps (§9.3)."""
    path = only_comparison(text).path
    assert (path.object_type, path.steps) == (object_type, steps)


@pytest.mark.parametrize(
    ("literal", "kind", "value"),
    [
        pytest.param("'a\\'b\\\\c'", LiteralKind.STRING, "a'b\\c", id="string"),
        pytest.param("-12", LiteralKind.INT, -12, id="int"),
        pytest.param("+1.5", LiteralKind.FLOAT, 1.5, id="float"),
        pytest.param("true", LiteralKind.BOOL, True, id="bool"),
        pytest.param("h'00ff'", LiteralKind.HEX, b"\x00\xff", id="hex"),
        pytest.param("b'aGk='", LiteralKind.BINARY, b"hi", id="binary"),
        pytest.param(
            "t'2020-01-02T03:04:05.1234567Z'",
            LiteralKind.TIMESTAMP,
            datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
            id="timestamp-truncated",
        ),
        pytest.param("t'2020-02-30T00:00:00Z'", LiteralKind.TIMESTAMP, None, id="impossible-date"),
    ],
)
def test_literals(literal: str, kind: LiteralKind, value: object) -> None:
    """Literal kinds and their values (§9.4)."""
    parsed = only_comparison(f"[a:b = {literal}]").literal
    assert parsed is not None
    assert (parsed.kind, parsed.value) == (kind, value)


def test_and_binds_tighter_than_or() -> None:
    """``a OR b AND c`` is ``a OR (b AND c)`` in comparison expressions (§9.6)."""
    root = parse("[a:x = 1 OR a:y = 2 AND a:z = 3]")
    assert isinstance(root, Observe)
    assert isinstance(root.expression, AnyOf)
    first, second = root.expression.operands
    assert isinstance(first, Comparison)
    assert isinstance(second, AllOf)


def test_parentheses_override_precedence() -> None:
    """``(a OR b) AND c``."""
    root = parse("[(a:x = 1 OR a:y = 2) AND a:z = 3]")
    assert isinstance(root, Observe)
    assert isinstance(root.expression, AllOf)
    assert isinstance(root.expression.operands[0], AnyOf)


def test_observation_precedence() -> None:
    """AND over OR over FOLLOWEDBY, which is left-associative (§9.7)."""
    root = parse("[a:x = 1] FOLLOWEDBY [a:x = 2] OR [a:x = 3] AND [a:x = 4] FOLLOWEDBY [a:x = 5]")
    assert isinstance(root, FollowedBy)
    assert isinstance(root.later, Observe)
    inner = root.earlier
    assert isinstance(inner, FollowedBy)
    assert isinstance(inner.later, ObserveAny)
    assert isinstance(inner.later.operands[1], ObserveAll)


def test_qualifiers_apply_innermost_first() -> None:
    """Qualifiers stack on the observation expression they follow (§9.8)."""
    root = parse(
        "[a:x = 1] REPEATS 2 TIMES WITHIN 1.5 SECONDS "
        "START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'"
    )
    assert isinstance(root, Qualified)
    assert isinstance(root.qualifier, StartStop)
    assert isinstance(root.expression, Qualified)
    assert isinstance(root.expression.qualifier, Within)
    assert root.expression.qualifier.microseconds == 1_500_000
    inner = root.expression.expression
    assert isinstance(inner, Qualified)
    assert inner.qualifier == Repeats(2, inner.qualifier.position)


@pytest.mark.parametrize(
    ("text", "operator", "negated"),
    [
        pytest.param("[a:b != 1]", Operator.NEQ, False, id="neq"),
        pytest.param("[a:b <> 1]", Operator.NEQ, False, id="neq-diamond"),
        pytest.param("[a:b NOT <= 1]", Operator.LE, True, id="not-le"),
        pytest.param("[a:b NOT IN (1, 2)]", Operator.IN, True, id="not-in"),
        pytest.param("[a:b MATCHES '^x']", Operator.MATCHES, False, id="matches"),
        pytest.param("[a:b ISSUPERSET '1.2.3.4']", Operator.ISSUPERSET, False, id="issuperset"),
    ],
)
def test_operators(text: str, operator: Operator, negated: bool) -> None:
    """Each operator, with and without NOT."""
    comparison = only_comparison(text)
    assert (comparison.operator, comparison.negated) == (operator, negated)


def test_exists() -> None:
    """``NOT EXISTS path`` (§9.5)."""
    root = parse("[NOT EXISTS file:name]")
    assert isinstance(root, Observe)
    assert isinstance(root.expression, Exists)
    assert root.expression.negated


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        pytest.param("[file:name = 'x'", 16, "expected ']'", id="unclosed"),
        pytest.param("[file:name 'x']", 11, "expected a comparison operator", id="no-operator"),
        pytest.param("[file:na-me = 1]", 6, "expected a property name", id="hyphen-in-property"),
        pytest.param("[file:name = 007]", 14, "expected ']'", id="leading-zero"),
        pytest.param("[file:name LIKE 1]", 16, "a string after LIKE", id="like-number"),
        pytest.param("[file:name > true]", 13, "a number, string", id="order-bool"),
        pytest.param("[a:b[-1] = 1]", 5, "must not be negative", id="negative-index"),
        pytest.param("[a:b = 1] WITHIN 1 SECONDS WITHIN 2 SECONDS", 27, "same qualifier", id="dup"),
        pytest.param("/**/[a:b = 1]", 0, "must start with '['", id="leading-comment"),
        pytest.param("[file:hashes.MD5 = 'abc']", 17, "not a valid MD5 hash", id="bad-md5"),
        pytest.param("[a:b = 1] WITHIN -1 SECONDS", 17, "positive number", id="negative-within"),
        pytest.param("[a:b = 'x\\n']", 7, "expected a literal", id="bad-escape"),
        pytest.param("[a:b = 1] #", 10, "expected AND, OR, FOLLOWEDBY", id="trailing-junk"),
    ],
)
def test_refusals_name_position_and_reason(text: str, position: int, reason: str) -> None:
    """``InvalidPattern`` carries the character offset and the reason."""
    with pytest.raises(InvalidPattern) as caught:
        compile_pattern(text)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert caught.value.code == "invalid-pattern"
    assert caught.value.status == 422
