"""The cases issue 12 reported against the policy contract, each at the layer it lives in.

A hub (CERT-EU) holds objects of BSI; NISC, ACSC and a client of the hub (Hafen) receive them.
Each test names the DESIGN.md rule or the clarification of turn 2 it holds.
"""

from __future__ import annotations

import dataclasses

import pytest

from kizuna.core.agreements import Agreement, AgreementParty, EquivalenceRow
from kizuna.core.consents import Consent
from kizuna.core.handling import Classification, Embargo, Handling
from kizuna.core.parties import Party
from kizuna.core.policy import Context, Decision, Subject, decide

NOW = 1_800_000_000_000_000
HOME = Party("identity--00000000-0000-4000-8000-000000000000", "CERT-EU", "EU", "csirt", "EU")
BSI = Party("identity--00000000-0000-4000-8000-000000000001", "BSI", "DE", "government", "DE")
NISC = Party("identity--00000000-0000-4000-8000-000000000002", "NISC", "JP", "government", "JP")
ACSC = Party("identity--00000000-0000-4000-8000-000000000003", "ACSC", "AU", "government", "AU")
HAFEN = Party("identity--00000000-0000-4000-8000-000000000004", "Hafen", "DE", "private", None)
VS_NFD = Classification("DE", "VS-NfD")
ROWS = (EquivalenceRow(1, (("EU", "RESTREINT UE"), ("DE", "VS-NfD"), ("AU", "PROTECTED"))),)


def agreement(n: int, *members: Party, onward: str = "originator-consent") -> Agreement:
    return Agreement(
        id=f"agreement--00000000-0000-4000-8000-{n:012d}",
        version=1,
        title=f"agreement {n}",
        purpose="",
        parties=tuple(
            AgreementParty(p.id, p.name, p.jurisdiction, p.kind, p.scheme, "A" * 43)
            for p in members
        ),
        valid_from_us=NOW - 1,
        valid_until_us=None,
        equivalences=ROWS,
        max_rank=1,
        classification_note="",
        tlp_allowed=frozenset({"red"}),
        onward_release=onward,
        redaction_profiles=(),
        receipts_owed=False,
        signatures=(),
        signed_by=frozenset(p.id for p in members),
        document={},
        state="active",
    )


def context(*agreements: Agreement, consents: tuple[Consent, ...] = ()) -> Context:
    return Context(
        home=HOME.id,
        clients=frozenset({HAFEN.id}),
        agreements=agreements,
        consents={BSI.id: consents},
        now_us=NOW,
    )


def bsi_object(handling: Handling, *, first_hop: bool = False, via: Party = BSI) -> Subject:
    """A BSI indicator: posted by BSI itself (first-hop) or received from ``via`` (onward)."""
    return Subject(
        "indicator--00000000-0000-4000-9000-000000000001",
        "indicator",
        handling,
        BSI.id,
        first_hop,
        via.id,
    )


def consent(*to: Party) -> Consent:
    return Consent(
        id="x-kizuna-consent--00000000-0000-4000-a000-000000000001",
        originator=BSI.id,
        objects=frozenset(),
        types=frozenset(),
        parties=frozenset(p.id for p in to),
        agreements=frozenset(),
        expires_us=NOW + 10**9,
    )


def refused_by(d: Decision) -> int | None:
    return d.refusal.rule if d.refusal else None


# -- 1. the stricter of the object's rule and the governing agreement's onward clause ----------

CLASSIFIED_MEMBERS = Handling("green", VS_NFD, "agreement-members")


def test_agreement_members_naming_no_agreement_yields_to_an_originator_consent_clause() -> None:
    """The reported leak: onward to ACSC under an agreement whose clause wants BSI's consent."""
    partnership = agreement(1, HOME, BSI, ACSC)  # onward clause: originator-consent
    d = decide(bsi_object(CLASSIFIED_MEMBERS), ACSC, context(partnership))
    assert not d.released
    assert refused_by(d) == 6
    assert d.refusal is not None and "onward clause" in d.refusal.sentence
    allowed = decide(
        bsi_object(CLASSIFIED_MEMBERS), ACSC, context(partnership, consents=(consent(ACSC),))
    )
    assert allowed.released and allowed.level == Classification("AU", "PROTECTED")


def test_agreement_members_naming_no_agreement_goes_within_one_it_was_received_under() -> None:
    members = agreement(1, HOME, BSI, ACSC, onward="agreement-members")
    d = decide(bsi_object(CLASSIFIED_MEMBERS), ACSC, context(members))
    assert d.released and d.agreement == members.ref


def test_received_under_means_agreements_joining_the_party_that_delivered_it() -> None:
    """Relayed by NISC, the object was received under agreements joining NISC and the hub."""
    without_nisc = agreement(1, HOME, BSI, ACSC, onward="agreement-members")
    with_nisc = agreement(2, HOME, BSI, ACSC, NISC, onward="agreement-members")
    relayed = bsi_object(CLASSIFIED_MEMBERS, via=NISC)
    refused = decide(relayed, ACSC, context(without_nisc))
    assert refused_by(refused) == 6
    assert refused.refusal is not None and "received under" in refused.refusal.sentence
    assert "docs/policy.md" in refused.refusal.sentence
    assert decide(relayed, ACSC, context(without_nisc, with_nisc)).released


def test_an_originator_consent_rule_beats_an_agreement_members_clause() -> None:
    members = agreement(1, HOME, BSI, ACSC, onward="agreement-members")
    ruled = bsi_object(Handling("green", VS_NFD, "originator-consent"))
    assert refused_by(decide(ruled, ACSC, context(members))) == 6
    assert decide(ruled, ACSC, context(members, consents=(consent(ACSC),))).released


# -- 2. release.agreements: only with agreement-members, only onward ---------------------------

ELSEWHERE = agreement(9, HOME, NISC).id  # an agreement the releases below do not go under


@pytest.mark.parametrize("rule", [None, "agreement-members", "originator-consent"])
def test_release_agreements_do_not_restrict_a_first_hop_release(rule: str | None) -> None:
    bilateral = agreement(1, BSI, ACSC)
    named = Handling("amber", None, rule, release_agreements=frozenset({ELSEWHERE}))
    d = decide(bsi_object(named, first_hop=True), ACSC, context(bilateral))
    assert d.released and d.agreement == bilateral.ref


def test_a_bare_release_agreements_list_leaves_tlp_clear_public() -> None:
    bare = Handling("clear", release_agreements=frozenset({ELSEWHERE}))
    for first_hop in (True, False):
        d = decide(bsi_object(bare, first_hop=first_hop), ACSC, context())
        assert d.released and d.verdicts[-1].rule == 3


@pytest.mark.parametrize("tlp", ["green", "amber"])
def test_a_bare_release_agreements_list_keeps_the_clients_exception(tlp: str) -> None:
    bare = Handling(tlp, release_agreements=frozenset({ELSEWHERE}))
    d = decide(bsi_object(bare), HAFEN, context())
    assert d.released and d.agreement is None


# -- consent: the originator's later word ------------------------------------------------------


def test_a_consent_naming_a_party_adds_it_to_the_listed_recipients() -> None:
    bilateral = agreement(1, BSI, ACSC)
    listed = bsi_object(Handling("amber", recipients=frozenset({NISC.id})), first_hop=True)
    assert refused_by(decide(listed, ACSC, context(bilateral))) == 5
    assert decide(listed, ACSC, context(bilateral, consents=(consent(ACSC),))).released


def test_for_red_a_consent_naming_a_party_counts_as_listing_it() -> None:
    bilateral = agreement(1, BSI, ACSC)
    red = bsi_object(Handling("red"), first_hop=True)
    assert refused_by(decide(red, ACSC, context(bilateral))) == 5
    assert decide(red, ACSC, context(bilateral, consents=(consent(ACSC),))).released


def test_a_consent_naming_an_agreement_lists_no_one() -> None:
    """kizuna's stricter reading (docs/policy.md), and explain names it."""
    bilateral = agreement(1, BSI, ACSC)
    by_agreement = dataclasses.replace(consent(), agreements=frozenset({bilateral.id}))
    red = bsi_object(Handling("red"), first_hop=True)
    d = decide(red, ACSC, context(bilateral, consents=(by_agreement,)))
    assert refused_by(d) == 5
    assert d.refusal is not None and "docs/policy.md" in d.refusal.sentence


@pytest.mark.parametrize("tlp", ["amber+strict", "red"])
def test_a_consent_naming_a_client_lifts_the_clients_exception_tlp_limit(tlp: str) -> None:
    onward = bsi_object(Handling(tlp))
    assert not decide(onward, HAFEN, context()).released
    d = decide(onward, HAFEN, context(consents=(consent(HAFEN),)))
    assert d.released and d.agreement is None


def test_a_consent_never_lifts_the_classification_equivalence() -> None:
    """Hafen holds no classification scheme: no consent makes a classified object its."""
    classified = bsi_object(Handling("green", VS_NFD))
    members = agreement(1, HOME, BSI, HAFEN, onward="agreement-members")
    for ctx in (context(consents=(consent(HAFEN),)), context(members, consents=(consent(HAFEN),))):
        assert refused_by(decide(classified, HAFEN, ctx)) == 4


def test_a_consent_never_lifts_an_embargo() -> None:
    embargoed = Handling("green", embargo=Embargo(NOW + 10**9, frozenset({NISC.id})))
    d = decide(bsi_object(embargoed), HAFEN, context(consents=(consent(HAFEN),)))
    assert refused_by(d) == 2


def test_no_onward_is_not_lifted_for_a_client() -> None:
    d = decide(
        bsi_object(Handling("green", None, "no-onward")), HAFEN, context(consents=(consent(HAFEN),))
    )
    assert refused_by(d) == 6


def test_a_release_rule_outside_an_agreement_needs_a_consent() -> None:
    """kizuna's reading (docs/policy.md): agreement-members pre-consents only within one."""
    ruled = bsi_object(Handling("amber", None, "agreement-members"))
    d = decide(ruled, HAFEN, context())
    assert refused_by(d) == 6
    assert d.refusal is not None and "docs/policy.md" in d.refusal.sentence
    assert decide(ruled, HAFEN, context(consents=(consent(HAFEN),))).released


def test_the_subject_records_who_delivered_it() -> None:
    plain = dataclasses.replace(bsi_object(CLASSIFIED_MEMBERS), received_from="")
    members = agreement(1, HOME, BSI, ACSC, onward="agreement-members")
    # Unknown (or the home party's own import): the originator stands for the deliverer.
    assert decide(plain, ACSC, context(members)).released
