"""Tokenizer for STIX 2.1 patterns (§9), matching the OASIS ANTLR lexer token for token.

ANTLR lexers take the longest match at each position and break ties by rule order; the
alternatives of ``_MASTER`` are ordered so that Python's first-match regex picks the same token.
Characters no rule covers become ``InvalidCharacter`` tokens, as in the OASIS grammar, so the
parser (not the lexer) reports them.
"""

from __future__ import annotations

import enum
import re
from typing import Final


class TokenKind(enum.StrEnum):
    """Token types, named as in the OASIS ``STIXPattern.g4`` grammar (str-valued: fast hashing)."""

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


# One token: its kind, its exact source text, and its character offset. A plain tuple, because
# the compiler makes hundreds of thousands of them (see bench/bench_patterns.py).
Token = tuple[TokenKind, str, int]
KIND: Final = 0
TEXT: Final = 1
START: Final = 2


# The grammar's WS rule: ASCII and Unicode spaces, not Python's wider str.isspace() set.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

K = TokenKind

# Groups in an order where Python's first match is ANTLR's longest match (ties going to the
# earlier grammar rule); rules that share no first character come in order of frequency.
# Whitespace and comments before a token are skipped possessively (no backtracking).
_SKIP = rf"(?:[{_WS}]++|/\*(?s:.*?)\*/|//[^\r\n]*+)*+"
_MASTER = re.compile(
    _SKIP + "(?:"
    r"([\[\]:,()^*])"  # 1: punctuation no other rule starts with
    # 2: TimestampLiteral (§9.4 "t'...'"): the grammar checks digit ranges, not calendars.
    r"|(t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z')"
    r"|(h'(?:[0-9A-Fa-f]{2})*')"  # 3: HexLiteral
    r"|(b'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)')"  # 4
    # 5: an identifier with a hyphen, else a keyword, boolean or identifier without one
    r"|([A-Za-z_][A-Za-z0-9_-]*)"
    r"|('[^'\\]*(?:\\['\\][^'\\]*)*')"  # 6: StringLiteral
    r"|([-+]?[0-9]*\.[0-9]+)"  # 7: FloatNegLiteral / FloatPosLiteral
    r"|([-+]?(?:0|[1-9][0-9]*))"  # 8: IntNegLiteral / IntPosLiteral
    r"|(==?|!=|<>|<=|>=|[<>'./+-])"  # 9: operators and the remaining punctuation
    r"|((?s:.))"  # 10: InvalidCharacter, the grammar's catch-all rule
    r"|(\Z)"  # 11: only whitespace or comments were left
    ")"
)
_SYMBOLS = {
    "[": K.LBRACK,
    "]": K.RBRACK,
    ":": K.COLON,
    ",": K.COMMA,
    "(": K.LPAREN,
    ")": K.RPAREN,
    "^": K.POWER_OP,
    "*": K.ASTERISK,
    "=": K.EQ,
    "==": K.EQ,
    "!=": K.NEQ,
    "<>": K.NEQ,
    "<=": K.LE,
    ">=": K.GE,
    "<": K.LT,
    ">": K.GT,
    "'": K.QUOTE,
    ".": K.DOT,
    "/": K.DIVIDE,
    "+": K.PLUS,
    "-": K.HYPHEN,  # HYPHEN precedes MINUS in the grammar, so '-' is always HYPHEN
}
_WORDS = {
    "AND": K.AND,
    "OR": K.OR,
    "NOT": K.NOT,
    "FOLLOWEDBY": K.FOLLOWEDBY,
    "LIKE": K.LIKE,
    "MATCHES": K.MATCHES,
    "ISSUPERSET": K.ISSUPERSET,
    "ISSUBSET": K.ISSUBSET,
    "EXISTS": K.EXISTS,
    "LAST": K.LAST,
    "IN": K.IN,
    "START": K.START,
    "STOP": K.STOP,
    "SECONDS": K.SECONDS,
    "WITHIN": K.WITHIN,
    "REPEATS": K.REPEATS,
    "TIMES": K.TIMES,
    # BoolLiteral precedes the TRUE/FALSE keyword rules, so these never lex as keywords.
    "true": K.BoolLiteral,
    "false": K.BoolLiteral,
}


_LITERAL_GROUPS = {
    2: K.TimestampLiteral,
    3: K.HexLiteral,
    4: K.BinaryLiteral,
    6: K.StringLiteral,
    10: K.InvalidCharacter,
}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, dropping whitespace and comments, ending with an EOF token."""
    tokens: list[Token] = []
    append = tokens.append
    symbols = _SYMBOLS
    words = _WORDS
    for match in _MASTER.finditer(text):
        group = match.lastindex or 10
        value = match[group]
        if group == 1 or group == 9:
            kind = symbols[value]
        elif group == 5:
            if "-" in value:
                kind = K.IdentifierWithHyphen
            else:
                kind = words.get(value, K.IdentifierWithoutHyphen)
        elif group == 7:
            kind = K.FloatNegLiteral if value[0] == "-" else K.FloatPosLiteral
        elif group == 8:
            kind = K.IntNegLiteral if value[0] == "-" else K.IntPosLiteral
        elif group == 11:
            break
        else:
            kind = _LITERAL_GROUPS[group]
        append((kind, value, match.start(group)))
    append((K.EOF, "", len(text)))
    return tokens
