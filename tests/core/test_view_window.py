"""What the view index may remember (core.view, services.view), held against ``decide``.

A decision remembered at ``now`` is reused while the context's ``now`` stays in its window; the
index also skips a key's versions on the decision taken without references and for an id no
consent names. Both hold only if ``decide`` never changes inside the window and references never
turn a withhold into a release: these properties check it on random worlds.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st
from test_policy_properties import World, worlds

from kizuna.core.policy import decide
from kizuna.core.view import Window, window

SPAN = 10**12  # how far to look on either side when a window has no end


def moments_inside(w: Window, now: int) -> list[int]:
    since = w.since if w.since is not None else now - SPAN
    until = w.until if w.until is not None else now + SPAN
    return sorted({since, until - 1, (since + until) // 2, now, now + 1, since + 1})


@given(worlds())
def test_no_decision_changes_inside_its_window(world: World) -> None:
    for s in world.subjects:
        w = window(world.ctx, [s.handling])
        assert w.holds_at(world.ctx.now_us)
        for t in moments_inside(w, world.ctx.now_us):
            if not w.holds_at(t):
                continue
            later = dataclasses.replace(world.ctx, now_us=t, memo={})
            for p in world.parties:
                assert decide(s, p, later) == decide(s, p, world.ctx), (s, p.id, t)


@given(worlds())
def test_a_window_ends_where_some_decision_may_change(world: World) -> None:
    """The window is not needlessly short either: each end is an agreement, consent or embargo
    moment, so moving past it is the only way out."""
    w = window(world.ctx, [s.handling for s in world.subjects])
    moments = {a.valid_from_us for a in world.ctx.agreements}
    moments |= {a.valid_until_us for a in world.ctx.agreements if a.valid_until_us is not None}
    moments |= {c.expires_us for cs in world.ctx.consents.values() for c in cs}
    moments |= {s.handling.embargo.until_us for s in world.subjects if s.handling.embargo}
    assert w.since is None or w.since in moments
    assert w.until is None or w.until in moments


@given(worlds(), st.data())
def test_withheld_references_never_turn_a_withhold_into_a_release(
    world: World, data: st.DataObject
) -> None:
    ids = [s.id for s in world.subjects] + ["indicator--00000000-0000-4000-9000-ffffffffffff"]
    refs = frozenset(data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3)))
    for s in world.subjects:
        for p in world.parties:
            if decide(s, p, world.ctx, refs).released:
                assert decide(s, p, world.ctx).released


@given(worlds())
def test_an_id_matters_only_where_a_consent_names_it(world: World) -> None:
    """services.view decides a key for an id no consent names and reads named ids apart."""
    named = {i for cs in world.ctx.consents.values() for c in cs for i in c.objects}
    for s in world.subjects:
        if s.id in named:
            continue
        anonymous = dataclasses.replace(s, id="")
        for p in world.parties:
            assert decide(s, p, world.ctx) == decide(anonymous, p, world.ctx)
