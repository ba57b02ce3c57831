"""Party names: one normal form, invisible characters refused, look-alikes of existing names found.

A party's name is what people read in `agreement show`, in tokens' Basic user names and in
decisions; a second party whose name *looks* like an existing one ("BSI" plus a zero-width space,
a Cyrillic "ВЅІ") is an impersonation, so the node refuses it (issue 12).

- ``normalise`` gives the stored form: NFKC, runs of white space made one space, trimmed. It
  refuses invisible characters (format and control characters, Unicode's default-ignorable code
  points, blank fillers) instead of removing them, so the name a party gives is the name it gets.
- ``skeletons`` give what two names are compared by: the normal form with confusable Cyrillic
  and Greek letters (and 0/O, 1/l/I) mapped to Latin, case folded, marks and white space
  removed. Two names whose skeletons meet are look-alikes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import TypeVar

MAX_LENGTH = 200

# Default-ignorable code points (Unicode DerivedCoreProperties) that are not of category Cf,
# and blank characters that render as nothing or as white space though they are letters.
_INVISIBLE = frozenset(
    (
        0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0,
        *range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0),
    )
)  # fmt: skip
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Capitals first (before case folding): some only look Latin as capitals (Greek Eta is H, its
# small form η looks like n).
_CAPITALS = str.maketrans(
    {
        # Cyrillic
        "А": "A", "В": "B", "Е": "E", "Ѕ": "S", "І": "I", "Ј": "J", "К": "K", "М": "M",
        "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ү": "Y",
        "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
        # Greek
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    }
)  # fmt: skip
_SMALL = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ѕ": "s", "і": "l", "ј": "j", "к": "k", "м": "m",
        "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ү": "y",
        "ԛ": "q", "ԝ": "w", "һ": "h", "ԁ": "d", "ӏ": "l", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "n", "ι": "l", "κ": "k", "μ": "u",
        "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "c",
        # Latin and digits that read as one another
        "0": "o", "1": "l", "i": "l", "ı": "l", "|": "l", "ǀ": "l",
    }
)  # fmt: skip
_DIGRAPHS = (("rn", "m"), ("vv", "w"))


class InvalidPartyName(ValueError):
    """A party name that is empty, too long or holds invisible characters."""


def normalise(name: str) -> str:
    """The stored form of a party name; InvalidPartyName says what is wrong with it."""
    text = unicodedata.normalize("NFKC", name)
    bad = sorted({c for c in text if _invisible(c)})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in bad)
        raise InvalidPartyName(
            f"party name {name!r} holds invisible characters ({shown}); "
            "a party name must be visible text"
        )
    text = " ".join(text.split())
    if not text:
        raise InvalidPartyName("a party needs a name")
    if len(text) > MAX_LENGTH:
        raise InvalidPartyName(f"a party name is at most {MAX_LENGTH} characters")
    return text


def _invisible(c: str) -> bool:
    if c in (" ", "\t", "\n", "\r"):
        return False  # ordinary white space, made one space by normalise
    return ord(c) in _INVISIBLE or unicodedata.category(c) in _REFUSED_CATEGORIES


def skeletons(name: str) -> frozenset[str]:
    """What names are compared by: two names look alike when their skeletons meet.

    Two readings, because some letters only look Latin in one case (Greek capital Eta is an H,
    its small form a n): the name in capitals with confusable capitals made Latin, and the name
    case folded with confusable small letters made Latin. Both are the same for every case
    variant of a name.
    """
    text = unicodedata.normalize("NFKC", name)
    return frozenset(
        {
            _finish(_bare(text.upper()).translate(_CAPITALS).casefold()),
            _finish(_bare(text.casefold())),
        }
    )


def _bare(text: str) -> str:
    """Letters without their marks (a precomposed capital is matched as its base letter)."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Me"))


def _finish(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(
        c
        for c in text
        if not c.isspace() and not _invisible(c) and unicodedata.category(c) not in ("Mn", "Me")
    )
    text = text.translate(_SMALL)
    for pair, single in _DIGRAPHS:
        text = text.replace(pair, single)
    return text


def alike(one: str, other: str) -> bool:
    """Whether two names look alike."""
    return bool(skeletons(one) & skeletons(other))


def key(name: str) -> str:
    """How a name is looked up (``kizuna token create bsi``): NFKC and case folded."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


Named = TypeVar("Named")


def look_alike(name: str, existing: Iterable[tuple[str, Named]]) -> Named | None:
    """The first of ``existing`` (name, thing) whose name looks like ``name``, or None."""
    wanted = skeletons(name)
    for other, thing in existing:
        if wanted & skeletons(other):
            return thing
    return None
