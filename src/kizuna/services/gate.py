"""THE GATE: the one function through which stored objects become bytes for a party.

Every face (TAXII, JSON API, export, federation) calls ``release``. It decides each version
under the policy contract (``core.policy``), builds derivatives where rules 7 and 8 demand,
and records every release to another party in the ledger before the bytes leave.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from kizuna.core.handling import Handling
from kizuna.core.parties import Party
from kizuna.core.policy import (
    RELEASE,
    RELEASE_REDACTED,
    WITHHOLD,
    Context,
    Decision,
    Subject,
    Verdict,
    decide,
)
from kizuna.core.redaction import NothingLeft, derive, touching
from kizuna.core.signing import canonical, digest
from kizuna.core.stix.object_types import OBJECT_TYPES
from kizuna.services import state as node_state
from kizuna.services.ledger import record
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion

_HANDLING_CACHE_MAX = 4096


@dataclass(frozen=True)
class Release:
    """One object version released to a party: the bytes it receives and why."""

    version: StoredVersion
    decision: Decision
    id: str
    content: bytes
    digest: str

    @property
    def derived(self) -> bool:
        return self.id != self.version.id


@dataclass(frozen=True)
class Verdicts:
    """The gate's answer for a batch: what goes, and what stays with the reason."""

    released: list[Release]
    withheld: list[tuple[StoredVersion, Decision]]


def context(node: Node, now_us: int | None = None) -> Context:
    """The policy context now: home, clients, agreements, consents, default TLP."""
    st = node_state.current(node)
    return Context(
        home=st.home.id,
        clients=st.clients,
        agreements=st.agreements,
        consents=st.consents,
        now_us=node.now() if now_us is None else now_us,
        default_tlp=node.settings()["default_tlp"],
    )


def _handling(node: Node, raw: str) -> Handling:
    cache: dict[str, Handling] = node.cache.setdefault("handling", {})
    found = cache.get(raw)
    if found is None:
        if len(cache) >= _HANDLING_CACHE_MAX:
            cache.clear()
        found = cache[raw] = Handling.from_json(raw)
    return found


def subject_of(node: Node, v: StoredVersion) -> Subject:
    """The policy's view of a stored version."""
    return Subject(v.id, v.type, _handling(node, v.handling), v.source, v.first_hop)


def judge(
    node: Node, recipient: Party, versions: Sequence[StoredVersion], ctx: Context | None = None
) -> list[tuple[StoredVersion, Decision]]:
    """Decide every version for the recipient, with rule 7 applied across references."""
    ctx = ctx or context(node)
    if recipient.id == ctx.home:
        return [(v, decide(subject_of(node, v), recipient, ctx)) for v in versions]
    wanted = {r for v in versions if v.refs for r in v.refs.split(" ")}
    in_batch = {v.id: v for v in versions}
    outside = wanted - in_batch.keys()
    held: dict[str, StoredVersion] = {}
    if outside:
        with node.db.read() as conn:
            held = store.latest(conn, outside)
    # A reference's own verdict ignores its references (one level), which keeps this linear.
    ref_ok: dict[str, bool] = {}
    for ref in wanted:
        target = in_batch.get(ref) or held.get(ref)
        if target is not None:
            ref_ok[ref] = decide(subject_of(node, target), recipient, ctx).released
    out = []
    for v in versions:
        withheld_refs = (
            frozenset(r for r in v.refs.split(" ") if ref_ok.get(r) is False)
            if v.refs
            else frozenset()
        )
        decision = decide(subject_of(node, v), recipient, ctx, withheld_refs)
        if decision.redactions:
            decision = _only_touching(decision, v)
        out.append((v, decision))
    return out


def _only_touching(decision: Decision, v: StoredVersion) -> Decision:
    """Keep only the redaction profiles that change this object (rule 8 needs no empty cut)."""
    kept = touching(decision.redactions, orjson.loads(v.content))
    if kept == decision.redactions:
        return decision
    verdicts = tuple(x for x in decision.verdicts if x.rule != 8 or kept)
    outcome = RELEASE_REDACTED if kept or decision.withheld_refs else RELEASE
    return dataclasses.replace(decision, outcome=outcome, redactions=kept, verdicts=verdicts)


def release(
    node: Node, recipient: Party, versions: Sequence[StoredVersion], ctx: Context | None = None
) -> Verdicts:
    """THE GATE: decide, derive, ledger; returns the bytes the recipient may have."""
    released: list[Release] = []
    withheld: list[tuple[StoredVersion, Decision]] = []
    for v, decision in judge(node, recipient, versions, ctx):
        if decision.outcome == WITHHOLD:
            withheld.append((v, decision))
            continue
        if not decision.redactions and not decision.withheld_refs and not decision.cut:
            released.append(Release(v, decision, v.id, v.content, v.digest))
            continue
        try:
            obj = derive(
                orjson.loads(v.content),
                original_digest=v.digest,
                profiles=decision.redactions,
                withheld_refs=decision.withheld_refs,
                cut=decision.cut,
                required=_required(v.type),
            )
        except NothingLeft as exc:
            withheld.append((v, _nothing_left(decision, str(exc))))
            continue
        content = orjson.dumps(obj)
        released.append(Release(v, decision, obj["id"], content, digest(canonical(obj))))
    node.metrics.gate(released, withheld)
    if recipient.id != node.home_party.id and released:
        record(node, recipient, released)
    return Verdicts(released, withheld)


def _required(stix_type: str) -> frozenset[str]:
    known = OBJECT_TYPES.get(stix_type)
    return frozenset(known.required) if known else frozenset()


def _nothing_left(decision: Decision, why: str) -> Decision:
    verdict = Verdict(7 if decision.withheld_refs else 8, False, f"nothing left to release: {why}")
    return Decision(WITHHOLD, (*decision.verdicts, verdict))


def bundle(releases: Sequence[Release], bundle_id: str) -> bytes:
    """A STIX bundle of released objects, assembled from their bytes."""
    head = orjson.dumps({"type": "bundle", "id": bundle_id})[:-1]
    return head + b',"objects":[' + b",".join(r.content for r in releases) + b"]}"
