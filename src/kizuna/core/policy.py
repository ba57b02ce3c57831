"""The policy contract: ``decide`` whether an object version may go to a party, and why.

Implements rules 0–9 of DESIGN.md "The policy contract". Pure: the caller passes the object's
handling, the recipient, every agreement and consent the node knows, and ``now``. Rule 7 needs
the verdicts on the object's references; the caller passes those ids it withholds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kizuna.core.agreements import Agreement, RedactionProfile
from kizuna.core.consents import Consent
from kizuna.core.handling import RELEASE_RULE_RANK, Classification, Handling, stricter_tlp
from kizuna.core.parties import Party

RELEASE = "release"
RELEASE_REDACTED = "release-redacted"
WITHHOLD = "withhold"

# Containers whose withheld refs are dropped from a derivative (rule 7); every other object that
# references a withheld object is withheld itself.
CONTAINERS: frozenset[str] = frozenset({"report", "grouping", "note", "opinion", "observed-data"})
# Meta objects that describe handling: every authenticated party needs them to read markings.
HANDLING_VOCABULARY: frozenset[str] = frozenset({"marking-definition", "extension-definition"})

RULE_NAMES: dict[int, str] = {
    0: "home",
    1: "originator",
    2: "embargo",
    3: "public",
    4: "agreement",
    5: "tlp",
    6: "third-party",
    7: "references",
    8: "redaction",
    9: "lifecycle",
}


@dataclass(frozen=True)
class Verdict:
    """One rule's verdict: passed (True), refused (False) or not applicable (None)."""

    rule: int
    passed: bool | None
    sentence: str

    @property
    def code(self) -> str:
        return f"rule-{self.rule}-{RULE_NAMES[self.rule]}"


@dataclass(frozen=True)
class Subject:
    """An object version as the gate sees it."""

    id: str
    type: str
    handling: Handling
    source: str  # the source of record: originator party, or the importing party
    first_hop: bool  # the node releases on the originator's behalf (DESIGN.md)
    # The party that delivered this version to the node (the poster, or the peer that synced
    # it); "" when unknown. It tells the agreements the object was received under (rule 6).
    received_from: str = ""


@dataclass(frozen=True)
class Context:
    """Everything the node knows that a decision may depend on."""

    home: str
    clients: frozenset[str]
    agreements: Sequence[Agreement]
    consents: Mapping[str, Sequence[Consent]]  # by originator
    now_us: int
    default_tlp: str = "amber"
    # Decisions already taken in this context (services.gate remembers them here): a context
    # is a moment, so the same question has the same answer within it.
    memo: dict[tuple[object, ...], Decision] = field(
        default_factory=dict, compare=False, repr=False
    )


@dataclass(frozen=True)
class Decision:
    """The outcome, the verdicts that led to it, and what the release happens under."""

    outcome: str
    verdicts: tuple[Verdict, ...]
    agreement: str | None = None
    level: Classification | None = None
    redactions: tuple[RedactionProfile, ...] = ()
    withheld_refs: frozenset[str] = field(default=frozenset())
    cut: frozenset[str] = field(default=frozenset())  # granular selectors taken out
    # References to objects the recipient gets as derivatives: (original id, derivative id).
    renamed: frozenset[tuple[str, str]] = field(default=frozenset())

    @property
    def released(self) -> bool:
        return self.outcome != WITHHOLD

    @property
    def refusal(self) -> Verdict | None:
        """The verdict that refused, for a withheld object."""
        if self.released:
            return None
        return next((v for v in self.verdicts if v.passed is False), None)

    @property
    def rules(self) -> tuple[int, ...]:
        """The rules that passed: what the ledger records as allowing the release."""
        return tuple(v.rule for v in self.verdicts if v.passed)


def _withhold(verdicts: list[Verdict]) -> Decision:
    return Decision(WITHHOLD, tuple(verdicts))


def decide(
    subject: Subject,
    recipient: Party,
    ctx: Context,
    withheld_refs: frozenset[str] = frozenset(),
) -> Decision:
    """Decide whether ``subject`` may go to ``recipient`` (rules 0–9), with every reason.

    Granular markings are decided part by part: a part the recipient may not have is cut from
    a derivative (rule 8), the rest of the object goes.
    """
    decision = _decide_whole(subject, recipient, ctx, withheld_refs)
    if not decision.released or not subject.handling.granular or decision.rules in ((0,), (1,)):
        return decision
    cut: set[str] = set()
    for selectors, part in subject.handling.granular:
        stricter = dataclasses.replace(subject, handling=merge(subject.handling, part))
        if not _decide_whole(stricter, recipient, ctx).released:
            cut.update(selectors)
    if not cut:
        return decision
    verdict = Verdict(8, True, f"granular markings withhold {', '.join(sorted(cut))}")
    return dataclasses.replace(
        decision,
        outcome=RELEASE_REDACTED,
        verdicts=(*decision.verdicts, verdict),
        cut=frozenset(cut),
    )


def merge(whole: Handling, part: Handling) -> Handling:
    """The handling of a granularly marked part: the object's, made stricter by the part's."""
    recipients = whole.recipients
    if part.recipients is not None:
        recipients = part.recipients if recipients is None else recipients & part.recipients
    classification = part.classification or whole.classification
    unresolved = whole.unresolved | part.unresolved
    if part.classification and whole.classification and part.classification != whole.classification:
        unresolved |= {"conflicting-classification"}
    rules = [r for r in (whole.release_rule, part.release_rule) if r]
    return Handling(
        tlp=stricter_tlp(whole.tlp, part.tlp),
        classification=classification,
        release_rule=max(rules, key=RELEASE_RULE_RANK.__getitem__) if rules else None,
        recipients=recipients,
        release_agreements=whole.release_agreements | part.release_agreements,
        embargo=part.embargo or whole.embargo,
        pap=part.pap or whole.pap,
        unresolved=unresolved,
    )


def _decide_whole(
    subject: Subject,
    recipient: Party,
    ctx: Context,
    withheld_refs: frozenset[str] = frozenset(),
) -> Decision:
    h = subject.handling
    if recipient.id == ctx.home:
        return Decision(RELEASE, (Verdict(0, True, "the home party sees all its node holds"),))
    if h.quarantine is not None:
        # Trust on receipt (DESIGN.md "Federation"): an object whose originator is unproven
        # is kept and shown at home, never released.
        return _withhold(
            [Verdict(1, False, f"quarantined, its originator is unproven: {h.quarantine}")]
        )
    if recipient.id == subject.source:
        return Decision(RELEASE, (Verdict(1, True, "the originator receives its own objects"),))
    verdicts: list[Verdict] = []
    if h.protocol:
        # A federation message (receipt, consent, consent request) is for its addressees only,
        # and like anything else it may not name what the addressee may not see (rule 7).
        if h.recipients is None or recipient.id not in h.recipients:
            return _withhold([Verdict(1, False, f"a {subject.type} is only for its addressees")])
        addressed = Verdict(1, True, f"a {subject.type} addressed to this party")
        refs = _references(subject, withheld_refs)
        if refs is not None:
            return _withhold([addressed, refs])
        return Decision(RELEASE, (addressed,))
    if subject.type in HANDLING_VOCABULARY:
        return Decision(
            RELEASE,
            (Verdict(3, True, f"a {subject.type} is handling vocabulary every party needs"),),
        )
    if h.unresolved:
        names = ", ".join(sorted(h.unresolved))
        verdicts.append(Verdict(5, False, f"markings this node cannot read ({names}): fail closed"))
        return _withhold(verdicts)
    if h.embargo is not None and ctx.now_us < h.embargo.until_us:
        if recipient.id not in h.embargo.participants:
            verdicts.append(Verdict(2, False, "under embargo and the recipient is no participant"))
            return _withhold(verdicts)
        verdicts.append(Verdict(2, True, "under embargo; the recipient is a participant"))
    ref_verdict = _references(subject, withheld_refs)
    if ref_verdict is not None and ref_verdict.passed is False:
        return _withhold([*verdicts, ref_verdict])
    tlp = h.tlp or ctx.default_tlp
    if tlp == "clear" and not h.restricted:
        verdicts.append(Verdict(3, True, "unclassified TLP:CLEAR without release restrictions"))
        if ref_verdict is not None:
            verdicts.append(ref_verdict)
        return _finish(verdicts, None, None, (), withheld_refs)
    return _under_agreement(subject, recipient, ctx, tlp, verdicts, ref_verdict, withheld_refs)


def _references(subject: Subject, withheld_refs: frozenset[str]) -> Verdict | None:
    # Rule 7: a relationship or sighting goes only if every end the node holds goes; a
    # container goes as a derivative without its withheld refs; anything else is withheld.
    if not withheld_refs:
        return None
    ids = ", ".join(sorted(withheld_refs))
    if subject.type in CONTAINERS:
        return Verdict(7, True, f"released without the withheld references {ids}")
    return Verdict(7, False, f"it references objects withheld from the recipient: {ids}")


def _finish(
    verdicts: list[Verdict],
    agreement: Agreement | None,
    level: Classification | None,
    redactions: tuple[RedactionProfile, ...],
    withheld_refs: frozenset[str],
) -> Decision:
    derived = bool(redactions) or bool(withheld_refs)
    return Decision(
        RELEASE_REDACTED if derived else RELEASE,
        tuple(verdicts),
        agreement.ref if agreement else None,
        level,
        redactions,
        withheld_refs,
    )


def _under_agreement(
    subject: Subject,
    recipient: Party,
    ctx: Context,
    tlp: str,
    verdicts: list[Verdict],
    ref_verdict: Verdict | None,
    withheld_refs: frozenset[str],
) -> Decision:
    h = subject.handling
    onward = not subject.first_hop
    releaser = subject.source if subject.first_hop else ctx.home
    recipient_agreements = frozenset(
        a.id
        for a in ctx.agreements
        if a.includes(recipient.id) and a.inactive_reason(ctx.now_us) is None
    )
    consents = ctx.consents.get(subject.source, ())
    # ``named``: a consent naming the recipient itself (DESIGN.md, clarifications of turn 2);
    # ``consented``: one naming it or an agreement it is in (rule 6).
    named = any(
        c.covers(subject.id, subject.type, subject.source, recipient.id, frozenset(), ctx.now_us)
        for c in consents
    )
    consented = named or any(
        c.covers(
            subject.id, subject.type, subject.source, recipient.id, recipient_agreements, ctx.now_us
        )
        for c in consents
    )
    # Rule 5, the part that does not depend on the agreement.
    tlp_verdict = _tlp(h, tlp, onward, recipient, ctx, consented, named)
    if tlp_verdict.passed is False:
        return _withhold([*verdicts, tlp_verdict])
    failures: list[Verdict] = []
    if _client_exception(h, tlp, onward, recipient, ctx, named):
        # Rule 4's exception needs no agreement; rules 5 and 6 still apply, without one.
        third = _third_party(None, subject, ctx, onward, consented)
        if third.passed is not False:
            out = [
                *verdicts,
                Verdict(4, True, "onward to a client of the home party: no agreement needed"),
                tlp_verdict,
            ]
            if third.passed:
                out.append(third)
            if ref_verdict is not None:
                out.append(ref_verdict)
            return _finish(out, None, None, (), withheld_refs)
        failures.append(third)
    inactive: list[str] = []
    best: Decision | None = None
    for agreement in sorted(ctx.agreements, key=lambda a: (a.id, a.version)):
        if not (agreement.includes(releaser) and agreement.includes(recipient.id)):
            continue
        reason = agreement.inactive_reason(ctx.now_us)
        if reason is not None:
            inactive.append(reason)
            continue
        attempt = _try_agreement(agreement, subject, recipient, ctx, tlp, onward, consented)
        if isinstance(attempt, Verdict):
            failures.append(attempt)
            continue
        rank_verdict, level, third, redactions = attempt
        out = [*verdicts, rank_verdict, tlp_verdict, third]
        if ref_verdict is not None:
            out.append(ref_verdict)
        if redactions:
            names = ", ".join(p.name for p in redactions)
            out.append(Verdict(8, True, f"redacted under profile {names} of {agreement.ref}"))
        out.append(Verdict(9, True, f"{agreement.ref} is active"))
        decision = _finish(out, agreement, level, redactions, withheld_refs)
        if not redactions:
            return decision  # a whole release beats a redacted one
        best = best or decision
    if best is not None:
        return best
    if failures:
        return _withhold([*verdicts, tlp_verdict, *failures])
    if inactive:
        return _withhold([*verdicts, *(Verdict(9, False, r) for r in inactive)])
    who = "the originator" if subject.first_hop else "this node's home party"
    return _withhold([*verdicts, Verdict(4, False, f"no agreement joins {who} and the recipient")])


def _client_exception(
    h: Handling, tlp: str, onward: bool, recipient: Party, ctx: Context, named: bool
) -> bool:
    """Rule 4's exception: an onward release of an unclassified GREEN or AMBER object (CLEAR
    too, see docs/policy.md) to a client of the home party needs no agreement. A consent naming
    that client lifts the TLP restriction (turn 2); nothing lifts the classification one."""
    if not onward or h.classification is not None or recipient.id not in ctx.clients:
        return False
    return tlp in ("clear", "green", "amber") or named


def _tlp(
    h: Handling,
    tlp: str,
    onward: bool,
    recipient: Party,
    ctx: Context,
    consented: bool,
    named: bool,
) -> Verdict:
    label = f"TLP:{tlp.upper()}"
    # A consent naming the recipient is the originator's later word: it adds the recipient to
    # the listed ones, and for RED it counts as listing it (DESIGN.md, turn 2).
    # kizuna's reading (docs/policy.md): a consent naming an agreement lists no party.
    via = " (a consent naming its agreement lists no one: docs/policy.md)" if consented else ""
    if h.recipients is not None and recipient.id not in h.recipients and not named:
        return Verdict(5, False, f"the originator listed recipients and this party is not one{via}")
    if tlp == "red" and h.recipients is None and not named:
        return Verdict(5, False, f"{label} goes only to recipients the originator listed{via}")
    listed = h.recipients is not None and recipient.id in h.recipients
    if named and not listed and (h.recipients is not None or tlp == "red"):
        unlisted = Verdict(5, True, f"{label}: the originator's consent names this recipient")
    else:
        unlisted = None
    if not onward or tlp in ("clear", "green"):
        return unlisted or Verdict(
            5, True, f"{label} allows this {'onward' if onward else 'first-hop'} release"
        )
    if consented:
        return Verdict(5, True, f"{label}: the originator consented to this recipient")
    if tlp == "amber" and recipient.id in ctx.clients:
        return Verdict(5, True, f"{label} may go onward to the home party's clients")
    if tlp == "amber":
        return Verdict(5, False, f"{label} goes onward only to the home party's clients")
    return Verdict(5, False, f"{label} never moves onward without the originator's consent")


def _try_agreement(
    agreement: Agreement,
    subject: Subject,
    recipient: Party,
    ctx: Context,
    tlp: str,
    onward: bool,
    consented: bool,
) -> tuple[Verdict, Classification | None, Verdict, tuple[RedactionProfile, ...]] | Verdict:
    h = subject.handling
    ref = agreement.ref
    if not agreement.allows_tlp(tlp):
        return Verdict(4, False, f"{ref} does not allow TLP:{tlp.upper()}")
    if onward and tlp == "green" and not agreement.includes(subject.source) and not consented:
        # GREEN stays in the originator's community, unless the originator consented to this
        # recipient: like rule 5's onward limits, that is the source's permission to lift it
        # (and without it, raising GREEN to AMBER could add a release).
        return Verdict(
            4, False, f"TLP:GREEN stays in the originator's community; {ref} excludes it"
        )
    level: Classification | None = None
    if h.classification is not None:
        rank = agreement.rank_of(h.classification)
        cls = f"{h.classification.scheme} {h.classification.level}"
        if rank is None:
            return Verdict(4, False, f"{ref} has no equivalence row for {cls}")
        if rank > agreement.max_rank:
            return Verdict(
                4, False, f"{cls} is above the maximum rank {agreement.max_rank} of {ref}"
            )
        if recipient.scheme is None:
            return Verdict(4, False, f"the recipient holds no classification scheme for {cls}")
        equivalent = agreement.equivalent(h.classification, recipient.scheme)
        if equivalent is None:
            return Verdict(4, False, f"{ref} gives no {recipient.scheme} level for {cls}")
        level = Classification(recipient.scheme, equivalent)
        rank_verdict = Verdict(4, True, f"under {ref}; {cls} is {recipient.scheme} {equivalent}")
    else:
        rank_verdict = Verdict(4, True, f"under {ref}")
    third = _third_party(agreement, subject, ctx, onward, consented)
    if third.passed is False:
        return third
    redactions = tuple(
        p
        for p in agreement.redaction_profiles
        if p.applies_to(recipient.id, recipient.jurisdiction, recipient.kind)
    )
    dropping = [p.name for p in redactions if subject.type in p.drop_types]
    if dropping:
        names = ", ".join(dropping)
        return Verdict(8, False, f"profile {names} of {ref} withholds every {subject.type}")
    return rank_verdict, level, third, redactions


def received_under(subject: Subject, ctx: Context) -> frozenset[str]:
    """The agreements the object was received under: the active ones joining the party that
    delivered it and the home party. The home party's own import delivers nothing: then the
    originator counts as the deliverer (docs/policy.md)."""
    came_from = subject.received_from
    if not came_from or came_from == ctx.home:
        came_from = subject.source
    return frozenset(
        a.id
        for a in ctx.agreements
        if a.includes(came_from) and a.includes(ctx.home) and a.inactive_reason(ctx.now_us) is None
    )


def _third_party(
    agreement: Agreement | None, subject: Subject, ctx: Context, onward: bool, consented: bool
) -> Verdict:
    """Rule 6. The stricter of the object's release rule and the governing agreement's onward
    clause applies (DESIGN.md, turn 2): without the originator's consent, both must allow."""
    h = subject.handling
    if not onward:
        return Verdict(6, None, "first-hop release: the third-party rule does not apply")
    if h.release_rule == "no-onward":
        return Verdict(6, False, "the originator forbids onward release (no-onward)")
    if h.classification is None and h.release_rule is None:
        return Verdict(
            6, None, "unclassified, no release rule: the third-party rule does not apply"
        )
    if consented:
        return Verdict(6, True, "the originator consented to this release")
    if agreement is None:
        # kizuna's reading (docs/policy.md): a release rule pre-consents only within an agreement.
        return Verdict(
            6,
            False,
            "outside an agreement, onward release of an object with a release rule needs the "
            "originator's consent (kizuna's reading, docs/policy.md)",
        )
    ref = agreement.ref
    if h.release_rule == "originator-consent":
        return Verdict(
            6, False, "the originator's release rule is originator-consent: it needs its consent"
        )
    if h.release_rule == "agreement-members":
        within = h.release_agreements or received_under(subject, ctx)
        if agreement.id not in within:
            if h.release_agreements:
                whose = "the agreements it names"
            else:
                # kizuna's reading (docs/policy.md): those active now that join the party that
                # delivered the object and the home party.
                whose = "the agreements it was received under (docs/policy.md)"
            return Verdict(
                6, False, f"agreement-members pre-consents only within {whose}, not {ref}"
            )
    if agreement.onward_release != "agreement-members":
        return Verdict(
            6, False, f"{ref}'s onward clause needs the originator's consent (the stricter rule)"
        )
    if not agreement.includes(subject.source):
        return Verdict(6, False, f"the originator is no party to {ref}: onward needs its consent")
    if h.release_rule == "agreement-members":
        return Verdict(6, True, f"the originator pre-consented within {ref}, whose clause agrees")
    return Verdict(6, True, f"{ref} allows onward release among its members")
