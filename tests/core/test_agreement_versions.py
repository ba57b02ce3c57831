"""Which version of an agreement governs: signatures count only with keys the node trusts.

The issue-12 attack: a partner writes a "next version" of an agreement between two other
parties, naming itself and an invented party, and signs it with keys it made. Every signature on
it verifies against the keys the document lists, so "fully signed" by its own account.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kizuna.core import agreement_versions as versions
from kizuna.core import agreements as core
from kizuna.core.signing import public_key_of
from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.services.node import new_private_key

AGREEMENT = "agreement--0d0d0d0d-0000-4000-8000-000000000001"


def pid(n: int) -> str:
    return f"identity--00000000-0000-4000-8000-{n:012d}"


BSI, NISC, HOME, INTRUDER, INVENTED, ACSC = (pid(n) for n in range(1, 7))
NAMES = {BSI: "BSI", NISC: "NISC", HOME: "CERT-EU", INTRUDER: "Mallory", INVENTED: "Evil"}
NAMES[ACSC] = "ACSC"
KEYS = {p: new_private_key() for p in NAMES}
# What the node trusts: the registry's keys (the operator's act). No INVENTED, no ACSC.
REGISTRY = {p: (public_key_of(KEYS[p]),) for p in (BSI, NISC, HOME, INTRUDER)}


def document(
    version: int, members: list[str], keys: dict[str, bytes] | None = None
) -> dict[str, Any]:
    keys = keys or KEYS
    return {
        "type": "kizuna-agreement",
        "id": AGREEMENT,
        "version": version,
        "title": f"v{version}",
        "valid_from": "2026-01-01T00:00:00Z",
        "parties": [
            {
                "id": p,
                "name": NAMES[p],
                "jurisdiction": "DE",
                "kind": "government",
                "public_key": public_key_of(keys[p]),
            }
            for p in members
        ],
    }


def signed(
    doc: dict[str, Any], signers: list[str], keys: dict[str, bytes] | None = None
) -> dict[str, Any]:
    keys = keys or KEYS
    for p in signers:
        leaving = p not in {x["id"] for x in doc["parties"]}
        doc = core.sign_document(doc, p, keys[p], leaving=leaving)
    return doc


NOW = parse_timestamp("2026-06-01T00:00:00Z")
V1 = core.parse(signed(document(1, [BSI, NISC]), [BSI, NISC]))


def test_a_first_version_signed_by_its_parties_with_trusted_keys_is_accepted() -> None:
    standing = versions.judge(V1, None, REGISTRY)
    assert standing.accepted
    assert standing.agreement.inactive_reason(NOW) is None


def test_the_issue_attack_a_self_signed_next_version_is_not_accepted() -> None:
    # The intruder's keys for itself and for the party it invented: everything verifies
    # against the document, nothing against what the node trusts for BSI and NISC.
    forged_keys = {**KEYS, BSI: new_private_key()}
    v2 = core.parse(
        signed(document(2, [BSI, INTRUDER, INVENTED], forged_keys), [BSI, INTRUDER, INVENTED],
               forged_keys)
    )  # fmt: skip
    assert v2.fully_signed  # by the document's own account
    standing = versions.judge(v2, V1, REGISTRY)
    assert not standing.accepted
    assert standing.missing == tuple(sorted([BSI, NISC, INVENTED]))
    assert "not signed yet" in (standing.agreement.inactive_reason(NOW) or "")
    # The version 1 keeps governing.
    chain = versions.chain([V1, v2], REGISTRY)
    assert versions.governing(chain) == chain[0].agreement


def test_an_accession_needs_every_existing_party_and_then_trusts_the_newcomers_key() -> None:
    v2_doc = document(2, [BSI, NISC, ACSC])
    only_newcomer = core.parse(signed(v2_doc, [ACSC, BSI]))
    standing = versions.judge(only_newcomer, V1, REGISTRY)
    # ACSC signed, but its key counts only once every existing party vouched for it.
    assert not standing.accepted and standing.missing == (NISC, ACSC)
    assert [p.id for p in standing.newcomers] == [ACSC]
    assert "not signed yet" in (standing.why_not() or "")
    everyone = core.parse(signed(v2_doc, [ACSC, BSI, NISC]))
    assert versions.judge(everyone, V1, REGISTRY).accepted
    # Without a version to replace, nobody vouches for the newcomer: never accepted.
    alone = versions.judge(everyone, None, REGISTRY)
    assert not alone.accepted and alone.missing == (ACSC,)
    assert "kizuna party add" in (alone.why_not() or "")


def test_a_party_that_leaves_must_sign_the_version_that_drops_it() -> None:
    v1 = core.parse(signed(document(1, [BSI, NISC, HOME]), [BSI, NISC, HOME]))
    without_home = document(2, [BSI, NISC])
    unsigned_by_leaver = core.parse(signed(without_home, [BSI, NISC]))
    standing = versions.judge(unsigned_by_leaver, v1, REGISTRY)
    assert not standing.accepted and standing.missing == (HOME,)
    assert HOME in (standing.agreement.inactive_reason(NOW) or "")
    with_leaver = core.parse(signed(without_home, [BSI, NISC, HOME]))
    assert versions.judge(with_leaver, v1, REGISTRY).accepted


def test_a_known_party_signing_with_another_key_does_not_count() -> None:
    other = {**KEYS, NISC: new_private_key()}
    doc = signed(document(1, [BSI, NISC], other), [BSI, NISC], other)
    standing = versions.judge(core.parse(doc), None, REGISTRY)
    assert standing.missing == (NISC,)


@given(
    members=st.sets(st.sampled_from([BSI, NISC, HOME, INTRUDER, INVENTED, ACSC]), min_size=2),
    signers=st.sets(st.sampled_from([BSI, NISC, HOME, INTRUDER, INVENTED, ACSC])),
    forged=st.sets(st.sampled_from([BSI, NISC, HOME, INTRUDER, INVENTED, ACSC])),
    base_members=st.sampled_from([None, (BSI, NISC), (BSI, NISC, HOME)]),
)
def test_accepted_exactly_when_every_needed_party_signed_with_a_trusted_key(
    members: set[str],
    signers: set[str],
    forged: set[str],
    base_members: tuple[str, ...] | None,
) -> None:
    # ``forged``: parties whose key in the document (and signature) is one the attacker made.
    keys = {p: (new_private_key() if p in forged else KEYS[p]) for p in NAMES}
    base = (
        core.parse(signed(document(1, list(base_members)), list(base_members)))
        if base_members
        else None
    )
    ordered = sorted(members)
    allowed = set(members) | set(base_members or ())
    doc = signed(document(2, ordered, keys), sorted(signers & allowed), keys)
    standing = versions.judge(core.parse(doc), base, REGISTRY)
    existing = set(base_members or ())
    needed = set(members) | existing

    def trusted(p: str) -> bool:
        if p in REGISTRY:
            return p not in forged
        # A newcomer's own key counts only when every existing party vouched for it.
        return base is not None and all(e in signers and e not in forged for e in existing)

    expected = all(p in signers and trusted(p) for p in needed)
    assert standing.accepted == expected
    if standing.accepted:
        assert standing.agreement.inactive_reason(NOW) is None
    else:
        assert standing.agreement.inactive_reason(NOW) is not None
