"""Which version of an agreement governs: signatures judged by the keys the node trusts.

An agreement document lists its parties with public keys, and anyone can write such a document and
sign it with keys of their own making. So a signature counts only when it verifies with a key the
node already trusts for that party (DESIGN "Who may change the gate's inputs"):

- the keys the node's registry holds for the party (the operator's act), or
- for a party a new version *adds* (an accession), the key that version lists for it, but only
  when every party of the version it replaces signed it with a key the node trusts: the existing
  parties vouch for the newcomer's key by signing the version that names it.

A version is **accepted** when every party of the version it replaces and every party of its own
signed it that way. The version a new one replaces is the newest accepted version before it; the
governing version is the newest accepted one (or, before any is accepted, the newest, which then
does not count). A first version replaces nothing, so all its parties must be known with keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from kizuna.core import signing
from kizuna.core.agreements import Agreement, AgreementParty, signing_payload

TrustedKeys = Mapping[str, Collection[str]]


@dataclass(frozen=True)
class Standing:
    """One version judged: its trusted signers, what it still needs, whom it admits."""

    agreement: Agreement  # ``signed_by``: trusted signatures only; ``required_signers`` set
    replaces: int | None  # the version it replaces, if any
    missing: tuple[str, ...]  # parties whose trusted signature it lacks
    newcomers: tuple[AgreementParty, ...]  # parties it names that the node has no record of
    accepted: bool

    def why_not(self) -> str | None:
        """Why this version does not count, or None when it is accepted."""
        if self.accepted:
            return None
        unknown = {p.id for p in self.newcomers} & set(self.missing)
        parts = []
        signers = sorted(set(self.missing) - unknown)
        if signers:
            parts.append(f"not signed yet with a key this node trusts by {', '.join(signers)}")
        if unknown:
            how = (
                "the node's operator adds them first (`kizuna party add`)"
                if self.replaces is None
                else f"they are admitted once every party of version {self.replaces} signs "
                "this one with a key this node trusts"
            )
            parts.append(
                f"it names parties this node does not know ({', '.join(sorted(unknown))}): {how}"
            )
        return f"{self.agreement.ref}: " + "; ".join(parts)


def trusted_signers(agreement: Agreement, keys: TrustedKeys) -> frozenset[str]:
    """The parties whose signature on ``agreement`` verifies with a key in ``keys``."""
    payload = signing_payload(agreement.document)
    return frozenset(
        s.party
        for s in agreement.signatures
        if any(signing.verify(k, payload, s.signature) for k in keys.get(s.party, ()))
    )


def judge(candidate: Agreement, base: Agreement | None, registry: TrustedKeys) -> Standing:
    """Judge ``candidate`` as the version that replaces ``base`` (None: it replaces nothing)."""
    existing = base.party_ids if base is not None else frozenset()
    needed = candidate.party_ids | existing
    keys: dict[str, Collection[str]] = {p: registry[p] for p in needed if p in registry}
    newcomers = tuple(p for p in candidate.parties if p.id not in registry)
    signed = trusted_signers(candidate, keys)
    if base is not None and newcomers and existing <= signed:
        # An accession the existing parties signed: their signatures vouch for the keys the
        # version lists for the parties it adds.
        keys.update({p.id: (p.public_key,) for p in newcomers})
        signed = trusted_signers(candidate, keys)
    judged = dataclasses.replace(
        candidate, signed_by=signed & needed, required_signers=existing - candidate.party_ids
    )
    missing = tuple(sorted(needed - signed))
    return Standing(
        agreement=judged,
        replaces=base.version if base is not None else None,
        missing=missing,
        newcomers=newcomers,
        accepted=not missing,
    )


def chain(versions: Sequence[Agreement], registry: TrustedKeys) -> list[Standing]:
    """Every version of one agreement, oldest first, each judged against the one it replaces."""
    base: Agreement | None = None
    out: list[Standing] = []
    for version in sorted(versions, key=lambda a: a.version):
        standing = judge(version, base, registry)
        out.append(standing)
        if standing.accepted:
            base = standing.agreement
    return out


def base_for(
    versions: Sequence[Agreement], version: int, registry: TrustedKeys
) -> Agreement | None:
    """The version a new ``version`` replaces: the newest accepted one before it."""
    accepted = [s.agreement for s in chain(versions, registry) if s.accepted]
    before = [a for a in accepted if a.version < version]
    return before[-1] if before else None


def governing(standings: Sequence[Standing]) -> Agreement | None:
    """The version that governs: the newest accepted, else the newest (which does not count)."""
    accepted = [s.agreement for s in standings if s.accepted]
    if accepted:
        return accepted[-1]
    return standings[-1].agreement if standings else None
