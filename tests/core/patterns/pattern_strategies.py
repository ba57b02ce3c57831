"""Hypothesis strategies that write STIX 2.1 patterns (§9): valid, odd, and broken.

``patterns()`` mixes three sources: patterns built from the grammar with well-formed parts,
patterns where any part may be an odd or malformed choice (keywords as names, negative indexes,
bad escapes, wrong literal types, stray characters), and either kind mutated character by
character. The validator decides which are valid; the tests only demand agreement.
"""

from __future__ import annotations

from hypothesis import strategies as st

_TYPES = ["file", "ipv4-addr", "network-traffic", "x-foo", "a", "_b1", "a-", "x--y"]
_ODD_TYPES = ["AND", "true", "1a", "'file'", "file.x"]
_NAMES = ["name", "value", "size", "hashes", "dst_port", "x_hex", "x_bin", "src_ref", "'q k'"]
_ODD_NAMES = ["SHA-256", "'bad\\q'", "9a", "OR", "b-c"]
_KEYS = ["a", "_b", "'quoted key'", "'it\\'s'", "'back\\\\slash'", "'SHA-256'", "B9"]
_ALGORITHMS = ["MD5", "'SHA-256'", "sha256", "'SHA-1'", "ssdeep", "MD6", "'SHA3-512'", "x", "'x'"]
_DIGESTS = [f"'{'a' * n}'" for n in (32, 40, 56, 64, 96, 128)] + ["'3:abc/+:.'"]
_STRINGS = ["''", "'x'", "'it\\'s'", "'a\\\\b'", "'10.0.0.0/8'", "'1.2.3.4'", "'%oo_'", "'ünï'"]
_NUMBERS = ["0", "1", "+5", "-1", "1.5", "-0.5", ".5", "+.25", "10000000000"]
_BINARY = ["b'AAAA'", "b'AAA='", "b'AA=='", "b'AAAAAA=='", "h''", "h'0a'"]
_TIMESTAMPS = ["t'2020-01-01T00:00:00Z'", "t'2020-01-01T00:00:00.5Z'", "t'2020-02-30T23:59:60Z'"]
_ODD_LITERALS = [
    "'bad\\escape'",
    "'unterminated",
    "007",
    "1.",
    "-",
    "b''",
    "b'A==='",
    "h'a'",
    "t'2020-13-01T00:00:00Z'",
    "t'2020-1-01T00:00:00Z'",
    "TRUE",
    "'" + "a" * 32 + "\n'",
]
_SPACES = [" ", " ", "  ", "\t", "\n", "\u3000", " /* c */ ", "\u00a0", " // x\n"]
_ODD_SPACES = ["", "", "", "\x1c", "/* ", "#", "\x00"]
_QUALIFIERS = [
    "WITHIN 5 SECONDS",
    "WITHIN 2.5 SECONDS",
    "WITHIN 0 SECONDS",
    "REPEATS 2 TIMES",
    "REPEATS 0 TIMES",
    "START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
]
_ODD_QUALIFIERS = ["WITHIN -1 SECONDS", "REPEATS 1.5 TIMES", "START '2020' STOP '2021'", "WITHIN 5"]


class _Writer:
    """Draws the parts of one pattern; ``odd`` lets some parts be odd or malformed."""

    def __init__(self, draw: st.DrawFn, odd: bool) -> None:
        self.draw = draw
        self.odd = odd

    def choose(self, good: list[str], odd: list[str] | None = None) -> str:
        """Mostly a good choice; in odd mode, one time in eight an odd one."""
        if self.odd and odd and self.draw(st.integers(0, 7)) == 0:
            return self.draw(st.sampled_from(odd))
        return self.draw(st.sampled_from(good))

    def join(self, parts: list[str]) -> str:
        """Tokens separated by random spacing and comments."""
        out: list[str] = []
        for part in parts:
            out.append(part)
            out.append(self.choose(_SPACES, _ODD_SPACES))
        return "".join(out).rstrip(" ")

    def path(self) -> tuple[str, bool]:
        """An object path, and whether it selects a hash."""
        path = self.choose(_TYPES, _ODD_TYPES) + ":" + self.choose(_NAMES, _ODD_NAMES)
        is_hash = False
        for _ in range(self.draw(st.integers(0, 2))):
            if is_hash and not self.odd:
                break
            step = self.choose(["key", "index", "star", "hash"], ["negative", "odd-key"])
            is_hash = step == "hash"
            if step == "key":
                path += "." + self.choose(_KEYS)
            elif step == "odd-key":
                path += "." + self.choose(_ODD_NAMES)
            elif step == "index":
                path += f"[{self.choose(['0', '2', '+1'])}]"
            elif step == "star":
                path += "[*]"
            elif step == "negative":
                path += "[-1]"
            else:
                path += ".hashes." + self.choose(_ALGORITHMS)
        return path, is_hash

    def literal(self, kinds: list[str], is_hash: bool) -> str:
        """A literal of one of ``kinds`` (a digest, usually, for a hash path)."""
        pools = {"s": _STRINGS, "n": _NUMBERS, "b": _BINARY, "t": _TIMESTAMPS, "B": ["true"]}
        if is_hash and "s" in kinds and self.draw(st.integers(0, 3)):
            return self.choose(_DIGESTS, _ODD_LITERALS)
        good = [item for kind in kinds for item in pools[kind]]
        return self.choose(good, _ODD_LITERALS + _STRINGS + _NUMBERS + ["true"])

    def comparison(self) -> str:
        """One comparison or EXISTS test."""
        path, is_hash = self.path()
        negated = self.choose(["", "", "", "NOT "])
        kind = self.choose(["eq", "eq", "order", "in", "like", "regex", "cidr", "exists"])
        if kind == "exists":
            return f"{negated}EXISTS {path}"
        if kind == "eq":
            op = self.choose(["=", "==", "!=", "<>"])
            return self.join([path, negated + op, self.literal(["s", "n", "b", "t", "B"], is_hash)])
        if kind == "order":
            op = self.choose(["<", "<=", ">", ">="])
            return self.join([path, negated + op, self.literal(["s", "n", "b", "t"], is_hash)])
        if kind == "in":
            kinds = self.choose(["s", "n", "t", "B", "b"])
            members = [self.literal([kinds], False) for _ in range(self.draw(st.integers(0, 3)))]
            return self.join([path, negated + "IN", "(" + ", ".join(members) + ")"])
        op = {"like": "LIKE", "regex": "MATCHES", "cidr": "ISSUBSET"}[kind]
        op = self.choose([op, op, "ISSUPERSET"])
        return self.join([path, negated + op, self.literal(["s"], is_hash)])

    def comparison_expression(self, depth: int) -> str:
        """Comparisons joined by AND/OR, sometimes in parentheses."""
        parts = [self.comparison()]
        for _ in range(self.draw(st.integers(0, 2))):
            parts.append(self.choose(["AND", "OR"], ["FOLLOWEDBY", "and"]))
            if depth > 0 and self.draw(st.integers(0, 3)) == 0:
                parts.append("(" + self.comparison_expression(depth - 1) + ")")
            else:
                parts.append(self.comparison())
        return self.join(parts)

    def observation_expression(self, depth: int) -> str:
        """Observation expressions joined by AND/OR/FOLLOWEDBY, with qualifiers."""
        parts: list[str] = []
        for index in range(self.draw(st.integers(1, 3))):
            if index:
                parts.append(self.choose(["AND", "OR", "FOLLOWEDBY"], ["NOT", ","]))
            if depth > 0 and self.draw(st.integers(0, 3)) == 0:
                term = "(" + self.observation_expression(depth - 1) + ")"
            else:
                term = "[" + self.comparison_expression(1) + "]"
            used: set[str] = set()
            for _ in range(self.draw(st.integers(0, 2))):
                qualifier = self.choose(_QUALIFIERS, _ODD_QUALIFIERS)
                if qualifier[:3] in used and not self.odd:
                    continue
                used.add(qualifier[:3])
                term += " " + qualifier
            parts.append(term)
        return self.join(parts)


@st.composite
def written(draw: st.DrawFn, odd: bool) -> str:
    """A pattern from the grammar; with ``odd``, parts may be odd or malformed."""
    return _Writer(draw, odd).observation_expression(1)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A pattern with a few characters deleted, inserted, replaced or duplicated."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        char = draw(st.sampled_from(list("[]()'\\:.,=!<>*-+ /aAT0\n\"é")))
        if action == "delete":
            text = text[:at] + text[at + 1 :]
        elif action == "insert":
            text = text[:at] + char + text[at:]
        elif action == "replace":
            text = text[:at] + char + text[at + 1 :]
        else:
            end = draw(st.integers(at, min(len(text), at + 12)))
            text = text[:end] + text[at:end] + text[end:]
    return text


def patterns() -> st.SearchStrategy[str]:
    """Valid-looking, odd and mutated patterns, in roughly equal shares."""
    return written(False) | written(True) | mutated(written(False))
