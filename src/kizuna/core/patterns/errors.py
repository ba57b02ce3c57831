"""The error a STIX pattern is refused with: where it went wrong and why."""

from __future__ import annotations

from kizuna.errors import InvalidStix


class InvalidPattern(InvalidStix):
    """A STIX 2.1 pattern (§9) that the patterning grammar or its validation rules refuse."""

    code = "invalid-pattern"

    def __init__(self, reason: str, position: int, *, pattern: str = "") -> None:
        excerpt = _excerpt(pattern, position) if pattern else ""
        message = f"invalid STIX pattern at character {position}: {reason}{excerpt}"
        super().__init__(message)
        self.reason = reason
        self.position = position


def _excerpt(pattern: str, position: int) -> str:
    """Show the text around ``position`` so a user can find the fault."""
    start = max(0, position - 20)
    before = pattern[start:position]
    after = pattern[position : position + 20]
    return f" (near {before!r} >>> {after!r})"
