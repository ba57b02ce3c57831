"""MATCHES and LIKE run on RE2 in linear time, with the results of Python re (stix2-matcher's)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from kizuna.core.patterns import InvalidPattern, compile_pattern, observation_from_stix
from kizuna.core.patterns.regex import RegexRefused, compile_regex

# Characters on which Python's re and RE2 disagree unless translated: Unicode digits, spaces
# and letters, a newline before the end, a character outside Latin-1.
_ALPHABET = "ab1_ \n\t.é٣\u2003\u00a0Ж\x1c"
_CHARS = ["a", "b", "1", "_", " ", r"\n", "é", "٣", "\u2003", r"\.", "Ж", r"\x1c"]
_ESCAPES = [r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", r"\A"]
_CLASS_ITEMS = ["a", "b-z", "0-9", r"\d", r"\w", r"\s", "é", "_", r"\n", r"\]", "-", r"\101"]


@st.composite
def _atoms(draw: st.DrawFn, depth: int) -> str:
    kind = draw(
        st.sampled_from(["char", "char", "escape", "class", "dot", "group"][: 6 - (not depth)])
    )
    if kind == "char":
        return draw(st.sampled_from(_CHARS))
    if kind == "escape":
        return draw(st.sampled_from(_ESCAPES))
    if kind == "dot":
        return "."
    if kind == "class":
        items = draw(st.lists(st.sampled_from(_CLASS_ITEMS), min_size=1, max_size=3))
        return "[" + draw(st.sampled_from(["", "^"])) + "".join(items) + "]"
    inner = draw(_branches(depth - 1))
    return draw(st.sampled_from(["(", "(?:"])) + inner + ")"


@st.composite
def _branches(draw: st.DrawFn, depth: int) -> str:
    branches = []
    for _ in range(draw(st.integers(1, 2))):
        parts = []
        for _ in range(draw(st.integers(0, 3))):
            atom = draw(_atoms(depth))
            quantifier = draw(st.sampled_from(["", "", "*", "+", "?", "{1,2}", "{,2}", "*?", "{"]))
            parts.append(atom + quantifier if quantifier != "{" else atom + r"\{")
        branches.append("".join(parts))
    return "|".join(branches)


@st.composite
def regexes(draw: st.DrawFn) -> str:
    """Expressions over the constructs both engines know; ``$`` only at a branch's end."""
    body = draw(_branches(2))
    return draw(st.sampled_from(["", "^"])) + body + draw(st.sampled_from(["", "$"]))


@given(regex=regexes(), texts=st.lists(st.text(_ALPHABET, max_size=8), min_size=1, max_size=6))
def test_re2_agrees_with_python_re(regex: str, texts: list[str]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            python = re.compile(regex)
    except re.error:
        with pytest.raises(RegexRefused, match="Python's re refuses it"):
            compile_regex(regex)
        return
    try:
        compiled = compile_regex(regex)
    except RegexRefused as exc:  # only where RE2 cannot say what Python means
        assert exc.reason.startswith(("'\\W' inside", "'\\S' inside", "'[:' inside")), exc
        return
    note(f"translated: {compiled.source!r}")
    for text in texts:
        assert bool(compiled.search_text(text)) == bool(python.search(text)), text


@given(regex=regexes(), texts=st.lists(st.binary(max_size=8), min_size=1, max_size=6))
def test_re2_agrees_with_python_re_on_bytes(regex: str, texts: list[bytes]) -> None:
    try:
        compiled = compile_regex(regex)
    except RegexRefused:
        return  # the text test shows when and why
    if compiled.search_bytes is None:
        return  # not Latin-1: stix2-matcher compares binary values with it never
    python = re.compile(regex.encode("latin-1"))
    for data in texts + [t + b"\n" for t in texts]:
        assert bool(compiled.search_bytes(data)) == bool(python.search(data)), data


@pytest.mark.parametrize(
    ("regex", "construct", "position"),
    [
        pytest.param(r"(a)\1", r"a backreference ('\1')", 4, id="backreference"),
        pytest.param(r"(?P<x>a)(?P=x)", "a backreference ('(?P=')", 9, id="named-backreference"),
        pytest.param(r"a(?=b)", "a lookahead ('(?=')", 2, id="lookahead"),
        pytest.param(r"a(?!b)", "a negative lookahead ('(?!')", 2, id="negative-lookahead"),
        pytest.param(r"(?<=a)b", "a lookbehind ('(?<=')", 1, id="lookbehind"),
        pytest.param(r"(?<!a)b", "a negative lookbehind ('(?<!')", 1, id="negative-lookbehind"),
        pytest.param(r"(?>a+)b", "an atomic group ('(?>')", 1, id="atomic-group"),
        pytest.param(r"a++b", "a possessive quantifier", 3, id="possessive"),
        pytest.param(r"(a)?(?(1)b|c)", "a conditional ('(?(')", 5, id="conditional"),
    ],
)
def test_backtracking_constructs_are_refused_by_name_and_position(
    regex: str, construct: str, position: int
) -> None:
    with pytest.raises(RegexRefused) as caught:
        compile_regex(regex)
    assert caught.value.reason.startswith(construct)
    assert "no linear-time evaluation" in caught.value.reason
    assert f"at character {position} of the expression" in str(caught.value)


@pytest.mark.parametrize(
    ("pattern", "construct", "position"),
    [
        pytest.param(r"[file:name MATCHES '^(a|b)\\1$']", r"a backreference ('\1')", 26, id="bref"),
        pytest.param("[file:name MATCHES 'x(?=exe)']", "a lookahead", 21, id="lookahead"),
        pytest.param("[file:name MATCHES '(']", "Python's re refuses it", 19, id="bad-regex"),
    ],
)
def test_ingest_compilation_refuses_what_it_cannot_evaluate(
    pattern: str, construct: str, position: int
) -> None:
    assert compile_pattern(pattern).problems  # valid STIX (stix2-patterns agrees), never matches
    with pytest.raises(InvalidPattern) as caught:
        compile_pattern(pattern, evaluable=True)
    assert caught.value.position == position
    assert "MATCHES regular expression cannot be used" in caught.value.reason
    assert construct in caught.value.reason


def test_linear_patterns_pass_ingest_compilation() -> None:
    compiled = compile_pattern(
        "[file:name MATCHES '^(a+)+$'] AND [file:name LIKE '%a%a%b']", evaluable=True
    )
    assert not compiled.problems


_EVIL = """
    from kizuna.core.patterns import compile_pattern, observation_from_stix
    evil = compile_pattern("[file:name MATCHES '^(a+)+$' OR file:name LIKE '%a%a%a%a%a%a%a%b']")
    for size in (26, 28, 1000, 100_000):
        od = {"id": "observed-data--1", "type": "observed-data", "number_observed": 1,
            "first_observed": "2026-01-01T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z",
            "object_refs": ["file--1"]}
        f = {"id": "file--1", "type": "file", "name": "a" * (size - 1) + "!"}
        assert not evil.matches([observation_from_stix(od, {"file--1": f})])
    print("done")
"""


def test_nested_quantifiers_do_not_stall_evaluation() -> None:
    """The reported pattern on values up to 100,000 characters; a backtracking engine would
    not finish within the bound (4 s at 26 characters, doubling with each one more)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_EVIL)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip() == "done", result.stderr


def test_matches_keeps_python_meaning_of_dollar_and_classes() -> None:
    od = {
        "id": "observed-data--1",
        "type": "observed-data",
        "first_observed": "2026-01-01T00:00:00Z",
        "last_observed": "2026-01-01T00:00:00Z",
        "number_observed": 1,
        "object_refs": ["file--1"],
    }
    obs = observation_from_stix(od, {"file--1": {"type": "file", "name": "report ٣.exe\n"}})
    for pattern in ("'exe$'", r"'\\d\\.exe'", r"'report\\s'", r"'^\\w+ \\w'"):
        assert compile_pattern(f"[file:name MATCHES {pattern}]").matches([obs]), pattern
