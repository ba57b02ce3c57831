"""The tokenizer produces the OASIS ANTLR lexer's tokens (STIX 2.1 §9 grammar)."""

from __future__ import annotations

import antlr4
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer

from kizuna.core.patterns.lexer import TokenKind, tokenize

_SKIPPED = {"WS", "COMMENT", "LINE_COMMENT"}


def antlr_tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of every token ANTLR emits, without skipped ones."""
    lexer = STIXPatternLexer(antlr4.InputStream(text))
    lexer.removeErrorListeners()
    tokens = []
    for token in lexer.getAllTokens():
        name = STIXPatternLexer.symbolicNames[token.type]
        if name not in _SKIPPED:
            tokens.append((name, token.text, token.start))
    return tokens


def kizuna_tokens(text: str) -> list[tuple[str, str, int]]:
    """The same for kizuna, without the final EOF."""
    return [(kind.value, value, start) for kind, value, start in tokenize(text)[:-1]]


FRAGMENTS = [
    *"abhtABZTN_-+.0123456789'\\ /*:=<>!()[],^\n\t\"é\x1c\u3000\x85",
    "t'",
    "h'",
    "b'",
    "AND",
    "OR",
    "true",
    "false",
    "IN",
    "EXISTS",
    "2020-01-01T00:00:00Z",
    "12-31T23:59:60.5Z",
    "/*",
    "*/",
    "//",
    "==",
    "<>",
    "0x",
    "SHA-256",
    "'a'",
    "b'AAAA'",
    "b'AA=='",
    "b'AAA='",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
def test_tokens_equal_antlr_tokens(text: str) -> None:
    """Longest match and rule order, exactly as the generated ANTLR lexer applies them."""
    assert kizuna_tokens(text) == antlr_tokens(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_tokenizes_like_antlr(text: str) -> None:
    """Any Unicode text, including characters no rule covers."""
    assert kizuna_tokens(text) == antlr_tokens(text)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        pytest.param("file-x", ["IdentifierWithHyphen"], id="hyphenated-type"),
        pytest.param("file", ["IdentifierWithoutHyphen"], id="plain-identifier"),
        pytest.param("AND", ["AND"], id="keyword"),
        pytest.param("ANDx", ["IdentifierWithoutHyphen"], id="keyword-prefix"),
        pytest.param("AND-x", ["IdentifierWithHyphen"], id="keyword-hyphen"),
        pytest.param("true", ["BoolLiteral"], id="bool"),
        pytest.param("TRUE", ["IdentifierWithoutHyphen"], id="bool-upper"),
        pytest.param("007", ["IntPosLiteral"] * 3, id="leading-zeros"),
        pytest.param("-1.5", ["FloatNegLiteral"], id="negative-float"),
        pytest.param("1.", ["IntPosLiteral", "DOT"], id="int-dot"),
        pytest.param("h'0a'", ["HexLiteral"], id="hex"),
        pytest.param("h'a'", ["IdentifierWithoutHyphen", "StringLiteral"], id="odd-hex"),
        pytest.param("b''", ["IdentifierWithoutHyphen", "StringLiteral"], id="empty-binary"),
        pytest.param("t'2020-01-01T00:00:00Z'", ["TimestampLiteral"], id="timestamp"),
        pytest.param("'a\\'b'", ["StringLiteral"], id="escaped-quote"),
        pytest.param(
            "'a\\nb'",
            [
                "QUOTE",
                "IdentifierWithoutHyphen",
                "InvalidCharacter",
                "IdentifierWithoutHyphen",
                "QUOTE",
            ],
            id="bad-escape",
        ),
        pytest.param("/* x */ //y", [], id="comments"),
        pytest.param("!", ["InvalidCharacter"], id="lone-bang"),
    ],
)
def test_token_kinds(text: str, kinds: list[str]) -> None:
    """Representative tokens of each rule."""
    assert [token[0].value for token in tokenize(text)[:-1]] == kinds
    assert tokenize(text)[-1][0] is TokenKind.EOF
