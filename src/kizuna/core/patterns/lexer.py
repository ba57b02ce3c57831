"""Tokenizer for STIX 2.1 patterns (§9), matching the OASIS ANTLR lexer token for token.

ANTLR lexers take the longest match at each position and break ties by rule order; the
alternatives of ``_MASTER`` are ordered so that Python's first-match regex picks the same token.
Characters no rule covers become ``InvalidCharacter`` tokens, as in the OASIS grammar, so the
parser (not the lexer) reports them.
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple


class TokenKind(enum.Enum):
    """Token types, named as in the OASIS ``STIXPattern.g4`` grammar."""

    IntNegLiteral = "IntNegLiteral"
    IntPosLiteral = "IntPosLiteral"
    FloatNegLiteral = "FloatNegLiteral"
    FloatPosLiteral = "FloatPosLiteral"
    HexLiteral = "HexLiteral"
    BinaryLiteral = "BinaryLiteral"
    StringLiteral = "StringLiteral"
    BoolLiteral = "BoolLiteral"
    TimestampLiteral = "TimestampLiteral"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    FOLLOWEDBY = "FOLLOWEDBY"
    LIKE = "LIKE"
    MATCHES = "MATCHES"
    ISSUPERSET = "ISSUPERSET"
    ISSUBSET = "ISSUBSET"
    EXISTS = "EXISTS"
    LAST = "LAST"
    IN = "IN"
    START = "START"
    STOP = "STOP"
    SECONDS = "SECONDS"
    WITHIN = "WITHIN"
    REPEATS = "REPEATS"
    TIMES = "TIMES"
    IdentifierWithoutHyphen = "IdentifierWithoutHyphen"
    IdentifierWithHyphen = "IdentifierWithHyphen"
    EQ = "EQ"
    NEQ = "NEQ"
    LT = "LT"
    LE = "LE"
    GT = "GT"
    GE = "GE"
    QUOTE = "QUOTE"
    COLON = "COLON"
    DOT = "DOT"
    COMMA = "COMMA"
    RPAREN = "RPAREN"
    LPAREN = "LPAREN"
    RBRACK = "RBRACK"
    LBRACK = "LBRACK"
    PLUS = "PLUS"
    HYPHEN = "HYPHEN"
    POWER_OP = "POWER_OP"
    DIVIDE = "DIVIDE"
    ASTERISK = "ASTERISK"
    InvalidCharacter = "InvalidCharacter"
    EOF = "EOF"


class Token(NamedTuple):
    """One token: its kind, its exact source text, and its character offset."""

    kind: TokenKind
    text: str
    start: int


# The grammar's WS rule: ASCII and Unicode spaces, not Python's wider str.isspace() set.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# Order matters: where ANTLR would pick a longer token, its alternative comes first.
_MASTER = re.compile(
    rf"(?P<skip>[{_WS}]+|/\*(?s:.*?)\*/|//[^\r\n]*)"
    # TimestampLiteral (§9.4 "t'...'"): the grammar checks digit ranges, not calendars.
    r"|(?P<TimestampLiteral>t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z')"
    r"|(?P<HexLiteral>h'(?:[0-9A-Fa-f]{2})*')"
    r"|(?P<BinaryLiteral>b'(?:[A-Za-z0-9+/]{4})*"
    r"(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)')"
    r"|(?P<IdentifierWithHyphen>[A-Za-z_][A-Za-z0-9_]*-[A-Za-z0-9_-]*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<float>[-+]?[0-9]*\.[0-9]+)"
    r"|(?P<int>[-+]?(?:0|[1-9][0-9]*))"
    r"|(?P<StringLiteral>'[^'\\]*(?:\\['\\][^'\\]*)*')"
    r"|(?P<op>==|!=|<>|<=|>=|[=<>:.,()\[\]+\-^/*'])"
    r"|(?P<InvalidCharacter>(?s:.))"
)

_WORDS = {
    "AND": TokenKind.AND,
    "OR": TokenKind.OR,
    "NOT": TokenKind.NOT,
    "FOLLOWEDBY": TokenKind.FOLLOWEDBY,
    "LIKE": TokenKind.LIKE,
    "MATCHES": TokenKind.MATCHES,
    "ISSUPERSET": TokenKind.ISSUPERSET,
    "ISSUBSET": TokenKind.ISSUBSET,
    "EXISTS": TokenKind.EXISTS,
    "LAST": TokenKind.LAST,
    "IN": TokenKind.IN,
    "START": TokenKind.START,
    "STOP": TokenKind.STOP,
    "SECONDS": TokenKind.SECONDS,
    "WITHIN": TokenKind.WITHIN,
    "REPEATS": TokenKind.REPEATS,
    "TIMES": TokenKind.TIMES,
    # BoolLiteral precedes the TRUE/FALSE keyword rules, so these never lex as keywords.
    "true": TokenKind.BoolLiteral,
    "false": TokenKind.BoolLiteral,
}

_OPERATORS = {
    "=": TokenKind.EQ,
    "==": TokenKind.EQ,
    "!=": TokenKind.NEQ,
    "<>": TokenKind.NEQ,
    "<": TokenKind.LT,
    "<=": TokenKind.LE,
    ">": TokenKind.GT,
    ">=": TokenKind.GE,
    "'": TokenKind.QUOTE,
    ":": TokenKind.COLON,
    ".": TokenKind.DOT,
    ",": TokenKind.COMMA,
    ")": TokenKind.RPAREN,
    "(": TokenKind.LPAREN,
    "]": TokenKind.RBRACK,
    "[": TokenKind.LBRACK,
    "+": TokenKind.PLUS,
    "-": TokenKind.HYPHEN,
    "^": TokenKind.POWER_OP,
    "/": TokenKind.DIVIDE,
    "*": TokenKind.ASTERISK,
}

_DIRECT = {
    "TimestampLiteral": TokenKind.TimestampLiteral,
    "HexLiteral": TokenKind.HexLiteral,
    "BinaryLiteral": TokenKind.BinaryLiteral,
    "IdentifierWithHyphen": TokenKind.IdentifierWithHyphen,
    "StringLiteral": TokenKind.StringLiteral,
    "InvalidCharacter": TokenKind.InvalidCharacter,
}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, dropping whitespace and comments, ending with an EOF token."""
    tokens: list[Token] = []
    append = tokens.append
    for match in _MASTER.finditer(text):
        group = match.lastgroup
        if group == "skip":
            continue
        value = match.group()
        start = match.start()
        if group == "word":
            kind = _WORDS.get(value, TokenKind.IdentifierWithoutHyphen)
        elif group == "op":
            kind = _OPERATORS[value]
        elif group == "int":
            kind = TokenKind.IntNegLiteral if value[0] == "-" else TokenKind.IntPosLiteral
        elif group == "float":
            kind = TokenKind.FloatNegLiteral if value[0] == "-" else TokenKind.FloatPosLiteral
        else:
            kind = _DIRECT[group or "InvalidCharacter"]
        append(Token(kind, value, start))
    append(Token(TokenKind.EOF, "", len(text)))
    return tokens
