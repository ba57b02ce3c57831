"""``MATCHES`` regular expressions, evaluated in linear time by RE2 with Python ``re``'s meaning.

stix2-matcher evaluates ``MATCHES`` with Python's ``re``, a backtracking engine: a pattern with
nested quantifiers and a 26-character value blocked a node for seconds (issue 12). kizuna
evaluates with RE2 (``google-re2``), whose time is linear in the value, after translating the
few constructs whose meaning differs between the two, so that results stay those of Python's
``re``:

* ``\\d``, ``\\w``, ``\\s`` (and their negations) are Unicode-wide in Python on strings and ASCII
  in RE2: they become ``\\p{Nd}``, ``[\\p{L}\\p{N}_]`` and Python's own whitespace set.
* ``$`` also matches before a final newline in Python: it becomes ``(?:\\n?\\z)`` (the value's
  end, after an optional newline). ``\\Z`` becomes ``\\z``; ``\\uXXXX``, ``\\UXXXXXXXX``,
  ``\\N{NAME}`` and octal escapes become ``\\x{...}``; ``{,n}`` becomes ``{0,n}``.

Constructs no linear-time engine can evaluate are refused with their name and position:
backreferences, lookahead and lookbehind, atomic groups, possessive quantifiers and
conditionals. So are the rare ones whose Python meaning RE2 cannot express (``\\W`` or ``\\S``
inside a character class, a ``[:`` inside one, which RE2 reads as a POSIX class). A regular
expression must also compile in Python's ``re`` (stix2-matcher would refuse it otherwise).

Known residual differences, documented in docs/limits.md: ``\\b`` and ``\\B`` are ASCII word
boundaries; ``$`` followed by more pattern that must consume the final newline; case folding
of a few characters under ``(?i)``.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import re2

# Python's \s on strings (every code point re.match(r"\s", ...) accepts), as class items.
_SPACE_ITEMS = (
    r"\t\n\x{b}\f\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}"
)
_BYTES_SPACE_ITEMS = r"\t\n\x{b}\f\r "  # Python's \s on bytes: ASCII, with \v
_WORD_ITEMS = r"\p{L}\p{N}_"
_OCTAL = "01234567"
_QUANTIFIER = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_MULTILINE_FLAG = re.compile(r"\(\?[a-zA-Z]*m")
_END = r"(?:\n?\z)"


class RegexRefused(ValueError):
    """A regular expression kizuna will not evaluate: what is wrong, and where (0-based)."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        where = f" at character {position + 1} of the expression" if position is not None else ""
        super().__init__(f"{reason}{where}")
        self.reason = reason
        self.position = position


def _hex_escape(code_point: int) -> str:
    return f"\\x{{{code_point:x}}}"


def _backtracking(construct: str, position: int) -> RegexRefused:
    return RegexRefused(
        f"{construct} needs backtracking; it has no linear-time evaluation", position
    )


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled ``MATCHES`` expression: ``search`` on strings, and on bytes when it can."""

    source: str
    search_text: Callable[[str], object]
    search_bytes: Callable[[bytes], object] | None


def _options(latin1: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the reason is raised, not printed on stderr
    if latin1:
        options.encoding = re2.Options.Encoding.LATIN1
    return options


def compile_regex(source: str) -> Regex:
    """Compile a ``MATCHES`` expression (NFC already applied); ``RegexRefused`` if we cannot."""
    binary_ok = all(ord(c) < 256 for c in source)
    try:  # compiling is cheap in any engine; only matching backtracks
        with warnings.catch_warnings():  # "possible nested set" and the like: not our reader's
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(source)
            if binary_ok:
                re.compile(bytes(ord(c) for c in source))
    except (re.error, OverflowError, ValueError, RecursionError) as exc:
        raise RegexRefused(f"Python's re refuses it: {exc}") from exc
    text = _compile(translate(source, binary=False), latin1=False)
    data = _compile(translate(source, binary=True), latin1=True) if binary_ok else None
    return Regex(source, text.search, data.search if data is not None else None)


def _compile(translated: str, *, latin1: bool) -> re2._Regexp:
    try:
        if latin1:
            return re2.compile(translated.encode("latin-1"), _options(True))
        return re2.compile(translated, _options(False))
    except (re2.error, UnicodeEncodeError) as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise RegexRefused(f"RE2 cannot evaluate it: {detail}") from exc


def translate(source: str, *, binary: bool) -> str:
    """The RE2 expression with the meaning Python's ``re`` gives ``source``."""
    return _Translator(source, binary).run()


class _Translator:
    """One left-to-right pass: escapes, character classes, groups and quantifiers."""

    def __init__(self, source: str, binary: bool) -> None:
        self.s = source
        self.binary = binary
        self.i = 0
        self.out: list[str] = []
        self.multiline = bool(_MULTILINE_FLAG.search(source))
        self.after_quantifier = False

    def run(self) -> str:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            quantifier = False
            if c == "\\":
                self._escape(in_class=False)
            elif c == "[":
                self._class()
            elif c == "(":
                self._group()
            elif c == "$":
                self.out.append("$" if self.multiline else _END)
                self.i += 1
            elif c in "*+?":
                if self.after_quantifier and c == "+":
                    raise _backtracking("a possessive quantifier ('+' after a quantifier)", self.i)
                # '?' after a quantifier makes it lazy; the result is still a quantifier.
                quantifier = not self.after_quantifier or c == "?"
                self.out.append(c)
                self.i += 1
            elif c == "{":
                quantifier = self._braces()
            else:
                self.out.append(c)
                self.i += 1
            self.after_quantifier = quantifier
        return "".join(self.out)

    def _braces(self) -> bool:
        found = _QUANTIFIER.match(self.s, self.i)
        if found is None or found.group(0) == "{}" or found.group(0) == "{,}":
            self.out.append(r"\{")  # Python reads a brace that starts no quantifier literally
            self.i += 1
            return False
        low, high = found.group(1), found.group(2)
        if low == "" and found.group(0).startswith("{,"):
            low = "0"
        self.out.append("{" + low + ("" if high is None else "," + high) + "}")
        self.i = found.end()
        return True

    def _group(self) -> None:
        s, i = self.s, self.i
        refused = {
            "(?=": "a lookahead",
            "(?!": "a negative lookahead",
            "(?<=": "a lookbehind",
            "(?<!": "a negative lookbehind",
            "(?>": "an atomic group",
            "(?P=": "a backreference",
            "(?(": "a conditional",
        }
        for opening, name in refused.items():
            if s.startswith(opening, i):
                raise _backtracking(f"{name} ({opening!r})", i)
        self.out.append("(")
        self.i += 1

    def _escape(self, *, in_class: bool) -> None:
        s, i = self.s, self.i
        if i + 1 >= len(s):
            raise RegexRefused("a trailing backslash", i)
        c = s[i + 1]
        self.i = i + 2
        if c.isdigit():
            self._digits(c, in_class)
        elif c in "dDwWsS":
            self.out.append(self._class_escape(c, in_class))
        elif c == "Z" and not in_class:
            self.out.append(r"\z")
        elif c == "b" and in_class:
            self.out.append(r"\x{8}")  # backspace inside a class
        elif c in "uU" and not self.binary:
            width = 4 if c == "u" else 8
            self._code_point(s[self.i : self.i + width], i, width)
            self.i += width
        elif c == "N" and not self.binary:
            end = s.find("}", self.i)
            name = s[self.i + 1 : end]
            self.out.append(_hex_escape(ord(unicodedata.lookup(name))))
            self.i = end + 1
        elif c.isascii():
            self.out.append("\\" + c)
        else:
            self.out.append(c)  # Python's escaped non-ASCII character is that character

    def _code_point(self, digits: str, position: int, width: int) -> None:
        if len(digits) != width or not _HEX.fullmatch(digits):
            raise RegexRefused("an incomplete \\u or \\U escape", position)
        self.out.append(_hex_escape(int(digits, 16)))

    def _digits(self, first: str, in_class: bool) -> None:
        """Octal escapes stay characters; any other ``\\N`` is a backreference (Python's rule)."""
        s, start = self.s, self.i - 2
        run = first
        while len(run) < 3 and self.i < len(s) and s[self.i] in _OCTAL:
            run += s[self.i]
            self.i += 1
        octal = all(d in _OCTAL for d in run) and (in_class or first == "0" or len(run) == 3)
        if octal:
            self.out.append(_hex_escape(int(run, 8)))
            return
        raise _backtracking(f"a backreference ('\\{s[start + 1 : self.i]}')", start)

    def _class_escape(self, c: str, in_class: bool) -> str:
        if self.binary:
            if c == "s":
                return _BYTES_SPACE_ITEMS if in_class else f"[{_BYTES_SPACE_ITEMS}]"
            if c == "S":
                if in_class:
                    raise RegexRefused("'\\S' inside a character class", self.i - 2)
                return f"[^{_BYTES_SPACE_ITEMS}]"
            return "\\" + c  # \d and \w are ASCII in both engines on bytes
        if c == "d":
            return r"\p{Nd}"
        if c == "D":
            return r"\P{Nd}"
        items = _WORD_ITEMS if c in "wW" else _SPACE_ITEMS
        if c in "ws":
            return items if in_class else f"[{items}]"
        if in_class:
            raise RegexRefused(f"'\\{c}' inside a character class", self.i - 2)
        return f"[^{items}]"

    def _class(self) -> None:
        s = self.s
        self.out.append("[")
        self.i += 1
        if self.i < len(s) and s[self.i] == "^":
            self.out.append("^")
            self.i += 1
        if self.i < len(s) and s[self.i] == "]":
            self.out.append(r"\]")  # a ']' first in a class is a literal in Python
            self.i += 1
        while self.i < len(s) and s[self.i] != "]":
            c = s[self.i]
            if c == "\\":
                self._escape(in_class=True)
            elif c == "[":
                if s.startswith("[:", self.i):
                    raise RegexRefused("'[:' inside a character class", self.i)
                self.out.append(r"\[")
                self.i += 1
            else:
                self.out.append(c)
                self.i += 1
        self.out.append("]")
        self.i += 1
