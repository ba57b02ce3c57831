"""Property tests of the policy contract (DESIGN.md "The policy contract").

Worlds of parties, agreements, consents and object handling are generated at random; each
property is checked for every (object, recipient) pair of the world.
"""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.agreements import Agreement, AgreementParty, EquivalenceRow, RedactionProfile
from kizuna.core.consents import Consent
from kizuna.core.handling import TLP_ORDER, TLP_RANK, Classification, Embargo, Handling
from kizuna.core.parties import Party
from kizuna.core.policy import Context, Decision, Subject, decide, received_under

NOW = 1_800_000_000_000_000
HOME = "identity--00000000-0000-4000-8000-000000000000"
SCHEMES = ("EU", "DE", "JP", "EE", None)
LEVELS = {
    "EU": ("RESTREINT UE", "CONFIDENTIEL UE", "SECRET UE", "TRES SECRET UE"),
    "DE": ("VS-NfD", "VS-VERTRAULICH", "GEHEIM", "STRENG GEHEIM"),
    "JP": ("取扱注意", "秘", "極秘", "特定秘密"),
    "EE": ("PIIRATUD", "KONFIDENTSIAALNE", "SALAJANE", "TÄIESTI SALAJANE"),
}
KEY = "A" * 43


def pid(n: int) -> str:
    return f"identity--00000000-0000-4000-8000-{n:012d}"


@dataclasses.dataclass(frozen=True)
class World:
    parties: tuple[Party, ...]
    ctx: Context
    subjects: tuple[Subject, ...]


def build_world(seed: int) -> World:
    """A world of parties, agreements, consents and objects, all drawn from one seed.

    Built with ``random.Random`` rather than Hypothesis draws: a world takes a fraction of a
    millisecond, so CI runs thousands of worlds per property. Hypothesis picks the seeds and
    reports the failing one.
    """
    r = random.Random(seed)
    everyone = [Party(HOME, "home", "EU", "csirt", "EU", is_home=True)]
    for n in range(1, r.randint(2, 6) + 1):
        everyone.append(
            Party(
                pid(n),
                f"p{n}",
                r.choice(["EU", "DE", "JP", "EE", "AU"]),
                r.choice(["government", "csirt", "private", "international"]),
                r.choice(SCHEMES),
                is_client=r.random() < 0.3,
            )
        )
    ids = [p.id for p in everyone]
    agreed = [_agreement(r, everyone, n) for n in range(r.randint(0, 4))]
    subjects = []
    for n in range(r.randint(1, 6)):
        source = r.choice(ids)
        subjects.append(
            Subject(
                id=f"indicator--00000000-0000-4000-9000-{n:012d}",
                type=r.choice(["indicator", "sighting", "identity", "report"]),
                handling=_handling(r, ids),
                source=source,
                first_hop=r.random() < 0.5 or source == HOME,
                received_from=r.choice(["", HOME, source, *r.sample(ids, 1)]),
            )
        )
    consents: dict[str, list[Consent]] = {}
    for n in range(r.randint(0, 3)):
        originator = r.choice(subjects).source
        consents.setdefault(originator, []).append(
            Consent(
                id=f"x-kizuna-consent--00000000-0000-4000-a000-{n:012d}",
                originator=originator,
                objects=frozenset(
                    r.sample([s.id for s in subjects], r.randint(0, min(2, len(subjects))))
                ),
                types=frozenset(r.sample(["indicator", "report"], r.randint(0, 1))),
                parties=frozenset(r.sample(ids, r.randint(0, 3))),
                agreements=frozenset(
                    r.sample([a.id for a in agreed], min(len(agreed), r.randint(0, 1)))
                ),
                expires_us=NOW + r.choice([-1, 10**9, 10**9]),
            )
        )
    ctx = Context(
        home=HOME,
        clients=frozenset(p.id for p in everyone if p.is_client),
        agreements=tuple(agreed),
        consents={k: tuple(v) for k, v in consents.items()},
        now_us=NOW,
        default_tlp=r.choice(["amber", "green", "red"]),
    )
    return World(tuple(everyone), ctx, tuple(subjects))


def _agreement(r: random.Random, everyone: list[Party], n: int) -> Agreement:
    members = r.sample(everyone, r.randint(2, len(everyone)))
    rows = []
    for rank in range(1, 5):
        levels = tuple(
            (s, LEVELS[s][rank - 1]) for s in ("EU", "DE", "JP", "EE") if r.random() < 0.7
        )
        if levels:
            rows.append(EquivalenceRow(rank, levels))
    profiles = tuple(
        RedactionProfile(
            name=f"profile-{k}",
            jurisdictions=frozenset(r.sample(["JP", "AU", "DE"], r.randint(0, 2))),
            kinds=frozenset(r.sample(["private", "government"], r.randint(0, 1))),
            parties=frozenset(),
            drop_types=frozenset(r.sample(["sighting", "identity"], r.randint(0, 1))),
            remove_properties=(("*", ("description",)),),
        )
        for k in range(r.choice([0, 0, 1]))
    )
    ids = frozenset(p.id for p in members)
    signed_by = ids if r.random() < 0.8 else frozenset(sorted(ids)[1:])
    return Agreement(
        id=f"agreement--00000000-0000-4000-8000-{n:012d}",
        version=1,
        title="a",
        purpose="",
        parties=tuple(
            AgreementParty(p.id, p.name, p.jurisdiction, p.kind, p.scheme, KEY) for p in members
        ),
        valid_from_us=NOW - r.choice([10**9, 10**9, -(10**9)]),
        valid_until_us=r.choice([None, NOW + 10**9, NOW - 1]),
        equivalences=tuple(rows),
        max_rank=r.randint(0, 4),
        classification_note="",
        tlp_allowed=frozenset(r.sample(TLP_ORDER, r.randint(1, 5))),
        onward_release=r.choice(["originator-consent", "agreement-members"]),
        redaction_profiles=profiles,
        receipts_owed=False,
        signatures=(),
        signed_by=signed_by,
        document={},
        state=r.choice(["active", "active", "active", "suspended", "terminated", "draft"]),
    )


def _handling(r: random.Random, ids: list[str]) -> Handling:
    scheme = r.choice(["EU", "DE", "JP", "EE"])
    embargo = None
    if r.random() < 0.2:
        embargo = Embargo(NOW + r.choice([-1, 10**9]), frozenset(r.sample(ids, r.randint(0, 3))))
    agreements = frozenset(
        f"agreement--00000000-0000-4000-8000-{n:012d}" for n in r.sample(range(4), r.randint(0, 1))
    )
    return Handling(
        tlp=r.choice([None, *TLP_ORDER]),
        classification=Classification(scheme, r.choice(LEVELS[scheme]))
        if r.random() < 0.4
        else None,
        release_rule=r.choice([None, None, "originator-consent", "agreement-members", "no-onward"]),
        recipients=frozenset(r.sample(ids, r.randint(0, 3))) if r.random() < 0.25 else None,
        release_agreements=agreements if r.random() < 0.3 else frozenset(),
        embargo=embargo,
    )


def worlds() -> st.SearchStrategy[World]:
    return st.builds(build_world, st.integers(0, 2**64 - 1))


def released(
    world: World, ctx: Context | None = None, subjects: tuple[Subject, ...] | None = None
) -> set[tuple[str, str]]:
    ctx = ctx or world.ctx
    return {
        (s.id, p.id)
        for s in (subjects or world.subjects)
        for p in world.parties
        if decide(s, p, ctx).released
    }


def each_decision(world: World) -> list[tuple[Subject, Party, Decision]]:
    return [(s, p, decide(s, p, world.ctx)) for s in world.subjects for p in world.parties]


@given(worlds())
def test_the_originator_always_receives_its_own(world: World) -> None:
    for s in world.subjects:
        originator = next(p for p in world.parties if p.id == s.source)
        assert decide(s, originator, world.ctx).released


@given(worlds(), st.data())
def test_removing_an_agreement_never_adds_a_release(world: World, data: st.DataObject) -> None:
    if not world.ctx.agreements:
        return
    drop = data.draw(st.sampled_from(world.ctx.agreements))
    fewer = dataclasses.replace(
        world.ctx, agreements=tuple(a for a in world.ctx.agreements if a is not drop)
    )
    assert released(world, fewer) <= released(world)


@given(worlds(), st.data())
def test_removing_a_consent_never_adds_a_release(world: World, data: st.DataObject) -> None:
    everyone = [(k, c) for k, cs in world.ctx.consents.items() for c in cs]
    if not everyone:
        return
    _originator, drop = data.draw(st.sampled_from(everyone))
    consents = {k: tuple(c for c in cs if c is not drop) for k, cs in world.ctx.consents.items()}
    fewer = dataclasses.replace(world.ctx, consents=consents)
    assert released(world, fewer) <= released(world)


@given(worlds(), st.data())
def test_removing_a_listed_recipient_never_adds_a_release(
    world: World, data: st.DataObject
) -> None:
    listed = [s for s in world.subjects if s.handling.recipients]
    if not listed:
        return
    s = data.draw(st.sampled_from(listed))
    assert s.handling.recipients is not None
    gone = data.draw(st.sampled_from(sorted(s.handling.recipients)))
    fewer = dataclasses.replace(
        s, handling=dataclasses.replace(s.handling, recipients=s.handling.recipients - {gone})
    )
    assert released(world, subjects=(fewer,)) <= released(world, subjects=(s,))


def _with_tlp(s: Subject, tlp: str) -> Subject:
    return dataclasses.replace(s, handling=dataclasses.replace(s.handling, tlp=tlp))


@given(worlds(), st.data())
def test_raising_tlp_never_adds_a_release(world: World, data: st.DataObject) -> None:
    s = data.draw(st.sampled_from(world.subjects))
    low, high = sorted(
        data.draw(st.lists(st.sampled_from(TLP_ORDER), min_size=2, max_size=2, unique=True)),
        key=TLP_RANK.__getitem__,
    )
    assert released(world, subjects=(_with_tlp(s, high),)) <= released(
        world, subjects=(_with_tlp(s, low),)
    )


def _classified(s: Subject, scheme: str, rank: int) -> Subject:
    level = Classification(scheme, LEVELS[scheme][rank - 1])
    return dataclasses.replace(s, handling=dataclasses.replace(s.handling, classification=level))


@given(worlds(), st.data())
def test_classifying_an_object_never_adds_a_release(world: World, data: st.DataObject) -> None:
    s = data.draw(st.sampled_from(world.subjects))
    plain = dataclasses.replace(s, handling=dataclasses.replace(s.handling, classification=None))
    scheme = data.draw(st.sampled_from(["EU", "DE", "JP", "EE"]))
    rank = data.draw(st.integers(1, 4))
    assert released(world, subjects=(_classified(plain, scheme, rank),)) <= released(
        world, subjects=(plain,)
    )


@given(worlds(), st.data())
def test_raising_classification_never_adds_a_release(world: World, data: st.DataObject) -> None:
    # Partial rows are the one deliberate exception (DESIGN.md rule 4: no level for the
    # recipient's scheme means withhold), so compare against the lower level only where every
    # agreement maps it for the recipient as well as the higher one does.
    s = data.draw(st.sampled_from(world.subjects))
    scheme = data.draw(st.sampled_from(["EU", "DE", "JP", "EE"]))
    low, high = sorted(data.draw(st.lists(st.integers(1, 4), min_size=2, max_size=2, unique=True)))
    lower, higher = _classified(s, scheme, low), _classified(s, scheme, high)
    for p in world.parties:
        mapped_low = all(
            a.equivalent(lower.handling.classification, p.scheme) is not None  # type: ignore[arg-type]
            for a in world.ctx.agreements
            if p.scheme and a.equivalent(higher.handling.classification, p.scheme) is not None  # type: ignore[arg-type]
        )
        if mapped_low and decide(higher, p, world.ctx).released:
            assert decide(lower, p, world.ctx).released, (p, lower, higher)


@given(worlds())
def test_red_never_reaches_an_unlisted_party(world: World) -> None:
    # DESIGN.md, turn 2: a consent by the originator naming the party counts as listing it.
    for s, p, d in each_decision(world):
        tlp = s.handling.tlp or world.ctx.default_tlp
        if tlp == "red" and d.released and p.id not in (HOME, s.source):
            listed = s.handling.recipients is not None and p.id in s.handling.recipients
            assert listed or _named(world, s, p)


@given(worlds())
def test_listed_recipients_bind_unless_a_consent_names_the_party(world: World) -> None:
    for s, p, d in each_decision(world):
        recipients = s.handling.recipients
        if recipients is not None and d.released and p.id not in (HOME, s.source):
            assert p.id in recipients or _named(world, s, p)


def _named(world: World, s: Subject, p: Party) -> bool:
    """An unexpired consent of the originator that names the party itself."""
    return any(
        c.covers(s.id, s.type, s.source, p.id, frozenset(), NOW)
        for c in world.ctx.consents.get(s.source, ())
    )


def _consented(world: World, s: Subject, p: Party) -> bool:
    agreed = frozenset(
        a.id for a in world.ctx.agreements if a.includes(p.id) and a.inactive_reason(NOW) is None
    )
    return any(
        c.covers(s.id, s.type, s.source, p.id, agreed, NOW)
        for c in world.ctx.consents.get(s.source, ())
    )


@given(worlds())
def test_amber_strict_never_moves_onward_without_consent(world: World) -> None:
    for s, p, d in each_decision(world):
        tlp = s.handling.tlp or world.ctx.default_tlp
        if (
            tlp == "amber+strict"
            and not s.first_hop
            and d.released
            and p.id not in (HOME, s.source)
        ):
            assert _consented(world, s, p)


@given(worlds())
def test_a_suspended_or_inactive_agreement_releases_nothing(world: World) -> None:
    inactive = {a.ref for a in world.ctx.agreements if a.inactive_reason(NOW) is not None}
    for _, _, d in each_decision(world):
        assert d.agreement not in inactive


@given(worlds())
def test_suspending_an_agreement_never_adds_a_release(world: World) -> None:
    suspended = tuple(dataclasses.replace(a, state="suspended") for a in world.ctx.agreements)
    assert released(world, dataclasses.replace(world.ctx, agreements=suspended)) <= released(world)


@given(worlds(), st.randoms(use_true_random=False))
def test_decisions_are_deterministic(world: World, rnd: random.Random) -> None:
    shuffled = list(world.ctx.agreements)
    rnd.shuffle(shuffled)
    other = dataclasses.replace(world.ctx, agreements=tuple(shuffled))
    for s in world.subjects:
        for p in world.parties:
            assert decide(s, p, world.ctx) == decide(s, p, other) == decide(s, p, world.ctx)


@given(worlds())
def test_every_refusal_names_its_rule(world: World) -> None:
    for _, _, d in each_decision(world):
        if not d.released:
            assert d.refusal is not None
            assert d.refusal.code.startswith(f"rule-{d.refusal.rule}-")
            assert d.refusal.sentence


@given(worlds())
def test_embargo_holds_until_it_ends(world: World) -> None:
    for s, p, d in each_decision(world):
        e = s.handling.embargo
        if e and e.until_us > NOW and d.released and p.id not in (HOME, s.source):
            assert p.id in e.participants


def test_world_generator_makes_both_outcomes() -> None:
    """Guard against a generator that makes every property hold vacuously."""
    outcomes: set[str] = set()
    agreements_used: set[bool] = set()

    @given(worlds())
    def collect(world: World) -> None:
        for _, _, d in each_decision(world):
            outcomes.add(d.outcome)
            agreements_used.add(d.agreement is not None)

    collect()
    assert outcomes == {"release", "release-redacted", "withhold"} or outcomes >= {
        "release",
        "withhold",
    }
    assert agreements_used == {True, False}


# -- issue 12: the stricter of rule and clause; release.agreements only for onward release ------


def _with_clause(world: World, clause: str, which: int) -> Context:
    agreed = list(world.ctx.agreements)
    agreed[which] = dataclasses.replace(agreed[which], onward_release=clause)
    return dataclasses.replace(world.ctx, agreements=tuple(agreed))


@given(worlds(), st.data())
def test_a_stricter_onward_clause_never_adds_a_release(world: World, data: st.DataObject) -> None:
    """From agreement-members to originator-consent: the stricter clause never releases more."""
    if not world.ctx.agreements:
        return
    which = data.draw(st.integers(0, len(world.ctx.agreements) - 1))
    lax = _with_clause(world, "agreement-members", which)
    strict = _with_clause(world, "originator-consent", which)
    assert released(world, strict) <= released(world, lax)


RULE_ORDER = (None, "agreement-members", "originator-consent", "no-onward")


@given(worlds(), st.data())
def test_a_stricter_release_rule_never_adds_a_release(world: World, data: st.DataObject) -> None:
    s = data.draw(st.sampled_from(world.subjects))
    low, high = sorted(data.draw(st.lists(st.integers(0, 3), min_size=2, max_size=2, unique=True)))

    def ruled(n: int) -> Subject:
        return dataclasses.replace(
            s, handling=dataclasses.replace(s.handling, release_rule=RULE_ORDER[n])
        )

    assert released(world, subjects=(ruled(high),)) <= released(world, subjects=(ruled(low),))


@given(worlds(), st.data())
def test_release_agreements_never_change_a_first_hop_release(
    world: World, data: st.DataObject
) -> None:
    """The list only says where rule agreement-members pre-consents to onward release."""
    s = data.draw(st.sampled_from(world.subjects))
    named = frozenset(
        data.draw(
            st.lists(
                st.sampled_from([a.id for a in world.ctx.agreements] or ["agreement--x"]),
                max_size=2,
            )
        )
    )
    bare = dataclasses.replace(
        s, handling=dataclasses.replace(s.handling, release_agreements=frozenset())
    )
    listed = dataclasses.replace(
        s, handling=dataclasses.replace(s.handling, release_agreements=named)
    )
    if s.first_hop or s.handling.release_rule != "agreement-members":
        for p in world.parties:
            assert decide(listed, p, world.ctx).released == decide(bare, p, world.ctx).released


@given(worlds())
def test_onward_release_without_consent_needs_rule_and_clause(world: World) -> None:
    """Turn 2: without the originator's consent, an onward release under an agreement of a
    classified or ruled object needs both the object's rule and the agreement's clause."""
    by_ref = {a.ref: a for a in world.ctx.agreements}
    for s, p, d in each_decision(world):
        h = s.handling
        ruled = h.classification is not None or h.release_rule is not None
        if s.first_hop or not ruled or not d.released or p.id in (HOME, s.source):
            continue
        assert h.release_rule != "no-onward"
        if _consented(world, s, p):
            continue
        assert d.agreement is not None, (s, p, d)
        a = by_ref[d.agreement]
        assert a.onward_release == "agreement-members" and a.includes(s.source)
        assert h.release_rule in (None, "agreement-members")
        if h.release_rule == "agreement-members":
            assert a.id in (h.release_agreements or received_under(s, world.ctx))


@given(worlds())
def test_a_classified_object_goes_only_at_an_equivalent_level(world: World) -> None:
    """No consent lifts rule 4's equivalence: a classified release names the recipient's level."""
    for s, p, d in each_decision(world):
        if s.handling.classification is None or not d.released or p.id in (HOME, s.source):
            continue
        assert d.agreement is not None and d.level is not None
        assert d.level.scheme == p.scheme
