"""How long a decision the gate took holds: what an index of a party's view needs.

A decision depends on the object's subject, the recipient and the context; of these only the
context's ``now`` moves by itself. ``decide`` reads the time in three places: an agreement's
validity (rule 9: ``valid_from``, ``valid_until``), a consent's expiry (rule 6) and an embargo's
end (rule 2, at object level and in granular markings). Between two of those moments every
decision stays what it was: a remembered decision is good inside its ``Window`` and must be
taken again outside it. ``tests/core/test_view_window.py`` holds ``decide`` to this.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kizuna.core.handling import Handling
from kizuna.core.policy import Context


@dataclass(frozen=True)
class Window:
    """The moments ``since <= t < until`` (None: unbounded) in which no decision changes."""

    since: int | None = None
    until: int | None = None

    def holds_at(self, t: int) -> bool:
        return (self.since is None or self.since <= t) and (self.until is None or t < self.until)

    def narrowed(self, other: Window) -> Window:
        """The part of this window inside ``other`` too."""
        since = max((s for s in (self.since, other.since) if s is not None), default=None)
        until = min((u for u in (self.until, other.until) if u is not None), default=None)
        return Window(since, until)


def context_moments(ctx: Context) -> Iterator[int]:
    """Every moment at which an agreement or a consent of the context starts or stops counting."""
    for agreement in ctx.agreements:
        yield agreement.valid_from_us
        if agreement.valid_until_us is not None:
            yield agreement.valid_until_us
    for consents in ctx.consents.values():
        for consent in consents:
            yield consent.expires_us


def handling_moments(handling: Handling) -> Iterator[int]:
    """Every moment at which an embargo of this handling ends, granular parts included."""
    if handling.embargo is not None:
        yield handling.embargo.until_us
    for _selectors, part in handling.granular:
        yield from handling_moments(part)


def window(ctx: Context, handlings: Iterable[Handling] = ()) -> Window:
    """The window around ``ctx.now_us`` in which a decision on objects of these handlings, in
    this context, stays the same: from the last moment that passed to the next to come."""
    moments = list(context_moments(ctx))
    for h in handlings:
        moments.extend(handling_moments(h))
    now = ctx.now_us
    return Window(
        max((t for t in moments if t <= now), default=None),
        min((t for t in moments if t > now), default=None),
    )
