"""The checks stix2-patterns' validator makes beyond the grammar, so kizuna refuses the same set.

``run_validator`` (stix2-patterns 2.1) also refuses a pattern that does not start with ``[``
after any ``(`` and whitespace, a hash comparison whose literal is not a well-formed digest of
that algorithm (§10.1 hashing-algorithm-ov), and a qualifier type repeated on one ``[...]``
(the parser handles that one).
"""

from __future__ import annotations

import re

from kizuna.core.patterns.ast import Comparison, Operator, Star
from kizuna.core.patterns.errors import InvalidPattern
from kizuna.core.patterns.parser import ParsedPattern

# stix2patterns.v21.object_validator.HASHES_REGEX, verbatim: the MD6 one is unanchored and
# spans a line continuation, and ``re.match`` lets ``$`` match before a final newline.
_HASHES: dict[str, tuple[str, str]] = {
    "MD5": (r"^[a-fA-F0-9]{32}$", "MD5"),
    "MD6": (
        "^[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{56}|\\\n    "
        "[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128}$",
        "MD6",
    ),
    "RIPEMD160": (r"^[a-fA-F0-9]{40}$", "RIPEMD-160"),
    "SHA1": (r"^[a-fA-F0-9]{40}$", "SHA-1"),
    "SHA224": (r"^[a-fA-F0-9]{56}$", "SHA-224"),
    "SHA256": (r"^[a-fA-F0-9]{64}$", "SHA-256"),
    "SHA384": (r"^[a-fA-F0-9]{96}$", "SHA-384"),
    "SHA512": (r"^[a-fA-F0-9]{128}$", "SHA-512"),
    "SHA3224": (r"^[a-fA-F0-9]{56}$", "SHA3-224"),
    "SHA3256": (r"^[a-fA-F0-9]{64}$", "SHA3-256"),
    "SHA3384": (r"^[a-fA-F0-9]{96}$", "SHA3-384"),
    "SHA3512": (r"^[a-fA-F0-9]{128}$", "SHA3-512"),
    "SSDEEP": (r"^[a-zA-Z0-9/+:.]{1,128}$", "SSDEEP"),
    "WHIRLPOOL": (r"^[a-fA-F0-9]{128}$", "WHIRLPOOL"),
}
_HASH_PATTERNS = {name: re.compile(regex) for name, (regex, _) in _HASHES.items()}


def check_brackets(text: str) -> None:
    """Refuse a pattern whose first character after ``(`` and spaces is not ``[``.

    stix2-patterns' ``brackets_check`` uses ``str.isspace`` and runs on the raw text, so a
    leading comment is refused too.
    """
    for position, char in enumerate(text):
        if char != "(" and not char.isspace():
            if char == "[":
                return
            raise InvalidPattern("a pattern must start with '['", position, pattern=text)
    raise InvalidPattern("a pattern must start with '['", len(text), pattern=text)


def literal_text(comparison: Comparison) -> str:
    """The literal as the validator's parse tree spells it (a set without its spaces)."""
    if comparison.operator is Operator.IN:
        return "(" + ",".join(member.text for member in comparison.members) + ")"
    assert comparison.literal is not None
    return comparison.literal.text


def check_hash(comparison: Comparison, text: str) -> None:
    """Refuse a comparison on ``...hashes...<ALGORITHM>`` whose literal is no such digest."""
    steps = comparison.path.steps
    if "hashes" not in steps:
        return
    selector = steps[-1]
    if isinstance(selector, Star):
        return
    if isinstance(selector, int):
        # stix2-patterns crashes on this (int has no upper()); a list index into hashes is
        # meaningless (hashes is a dictionary, §10.1), so refuse it.
        raise InvalidPattern(
            "a list index cannot select a hash", comparison.path.position, pattern=text
        )
    algorithm = selector.upper().replace("-", "").replace("'", "")
    regex = _HASH_PATTERNS.get(algorithm)
    if regex is None:
        return
    digest = literal_text(comparison).replace("'", "")
    if not regex.match(digest):
        raise InvalidPattern(
            f"{digest!r} is not a valid {selector} hash", comparison.position, pattern=text
        )


def check_conformance(parsed: ParsedPattern, text: str) -> None:
    """Apply the validator's rules that the grammar does not express."""
    check_brackets(text)
    for comparison in parsed.comparisons:
        check_hash(comparison, text)
