"""THE GATE: the one function through which stored objects become bytes for a party.

Every face (TAXII, JSON API, export, federation) calls ``release``. It decides each version
under the policy contract (``core.policy``), builds derivatives where rules 7 and 8 demand,
and records every release to another party in the ledger before the bytes leave.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
from kizuna.core.seals import Seal
from kizuna.core.signing import canonical, digest
from kizuna.core.stix.object_types import OBJECT_TYPES
from kizuna.services import sealing
from kizuna.services import state as node_state
from kizuna.services.ledger import record
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion
from kizuna.storage.view_keys import ViewKey

_HANDLING_CACHE_MAX = 4096


@dataclass(frozen=True)
class Release:
    """One object version released to a party: the bytes it receives and why."""

    version: StoredVersion
    decision: Decision
    id: str
    content: bytes
    digest: str
    seal: bytes | None = None  # the seal that travels with it (DESIGN.md "Federation")

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
    return Subject(v.id, v.type, _handling(node, v.handling), v.source, v.first_hop, v.submitted_by)


def _decide(
    node: Node,
    v: StoredVersion,
    recipient: Party,
    ctx: Context,
    withheld_refs: frozenset[str] = frozenset(),
) -> Decision:
    """``decide``, remembered per context: most objects share their handling, originator and
    path, so a page of a thousand takes a handful of real decisions. The object's id is part
    of the key only where a consent names objects of its originator; who delivered it, only
    for an onward release (rule 6: the agreements it was received under)."""
    by_id = any(c.objects for c in ctx.consents.get(v.source, ()))
    key = (
        recipient.id,
        v.handling,
        v.source,
        v.first_hop,
        v.type,
        withheld_refs,
        v.id if by_id else "",
        "" if v.first_hop else v.submitted_by,
    )
    found = ctx.memo.get(key)
    if found is None:
        found = ctx.memo[key] = decide(subject_of(node, v), recipient, ctx, withheld_refs)
    return found


def decide_alike(node: Node, recipient: Party, key: ViewKey, ctx: Context) -> Decision:
    """The decision on any version of a view key, as ``judge`` would take it for one whose id
    no consent names and whose references are all released. services.view remembers it to
    skip the versions of keys withheld from a party: a withheld reference never turns a
    withhold into a release (rule 7 only withholds more), and versions whose id a consent
    names are read apart."""
    stand_in = StoredVersion(
        date_added=0,
        id="",
        type=key.type,
        modified=0,
        spec_version="",
        source=key.source,
        submitted_by=key.submitted_by,
        path="",
        first_hop=key.first_hop,
        handling=key.handling,
        refs="",
        digest="",
        content=b"",
    )
    return decide(subject_of(node, stand_in), recipient, ctx)


def judge(
    node: Node,
    recipient: Party,
    versions: Sequence[StoredVersion],
    ctx: Context | None = None,
    *,
    unseen: frozenset[str] = frozenset(),
) -> list[tuple[StoredVersion, Decision]]:
    """Decide every version for the recipient, with rule 7 applied through references.

    An older version goes only where the newest version of its object would go too: raising
    TLP (or any restriction) in a new version withholds the laxer old ones from those the new
    one excludes. A revocation is a version like any other (docs/policy.md).

    ``unseen`` ids count as not held (an explanation for a partner is made over what it may
    see, so it cannot tell a withheld reference from one the node does not hold).
    """
    ctx = ctx or context(node)
    if recipient.id == ctx.home:
        return [(v, _decide(node, v, recipient, ctx)) for v in versions]
    refs = _References(node, recipient, ctx, versions, unseen)
    out = []
    for v in versions:
        decision = _decide(node, v, recipient, ctx, refs.withheld(v))
        if decision.released and not v.is_latest:
            decision = _capped_by_newest(decision, refs.newest_refusal(v.id))
        if decision.redactions:
            decision = _only_touching(decision, v)
        out.append((v, refs.renaming(v, decision)))
    return out


class _References:
    """Rule 7 across the graph: a referenced object counts as withheld if the gate would
    withhold it, judged with its own references in turn (a relationship whose end is withheld
    is withheld, so a report naming it loses it too). Referenced objects are loaded a level at
    a time, to ``DEPTH`` levels; what lies deeper counts as withheld (fail closed). A reference
    met again while it is being judged (a cycle) counts as released if its own handling allows."""

    DEPTH = 4

    def __init__(
        self,
        node: Node,
        recipient: Party,
        ctx: Context,
        versions: Sequence[StoredVersion],
        unseen: frozenset[str] = frozenset(),
    ) -> None:
        self.node, self.recipient, self.ctx = node, recipient, ctx
        # A reference means the object's newest version: older ones in the batch stand for
        # nothing, their object's newest is loaded (it also caps them, see ``judge``).
        self.held: dict[str, StoredVersion] = {v.id: v for v in versions if v.is_latest}
        older = {v.id for v in versions} - self.held.keys()
        newest: list[StoredVersion] = []
        if older:
            with self.node.db.read() as conn:
                newest = list(store.latest(conn, older).values())
            self.held.update((v.id, v) for v in newest)
        self.depth_of: dict[str, int] = {i: 0 for i in self.held}
        self.ok: dict[str, bool] = {}
        self.ids: dict[str, str | None] = {}
        self.judging: set[str] = set()
        self.assumed: set[str] = set()
        self._load([*versions, *newest])
        for ref in unseen:
            if self.depth_of.get(ref, 0) > 0:
                self.held.pop(ref, None)  # as if the node did not hold it

    def newest_refusal(self, object_id: str) -> Verdict | None:
        """Why the newest version of an object is withheld from the recipient by its own
        handling (rule 7 aside: its references say nothing of the older versions), or None."""
        newest = self.held.get(object_id)
        if newest is None:
            return None
        return _decide(self.node, newest, self.recipient, self.ctx).refusal

    def loaded(self) -> dict[str, StoredVersion]:
        """The referenced versions held, to ``DEPTH`` levels (not the judged ones)."""
        return {r: v for r, v in self.held.items() if self.depth_of.get(r, 0) > 0}

    def _load(self, level: list[StoredVersion]) -> None:
        for depth in range(1, self.DEPTH + 1):
            wanted = {r for v in level if v.refs for r in v.refs.split(" ")} - self.depth_of.keys()
            if not wanted:
                return
            with self.node.db.read() as conn:
                found = store.latest(conn, wanted)
            for ref in wanted:
                self.depth_of[ref] = depth
            self.held.update(found)
            level = list(found.values())

    def withheld(self, v: StoredVersion) -> frozenset[str]:
        if not v.refs:
            return frozenset()
        return frozenset(r for r in v.refs.split(" ") if r in self.held and not self.releasable(r))

    def releasable(self, ref: str) -> bool:
        known = self.ok.get(ref)
        if known is not None:
            return known
        target = self.held[ref]
        if self.depth_of.get(ref, 0) >= self.DEPTH and target.refs:
            self.ok[ref] = False  # its own references were not loaded: fail closed
            return False
        if ref in self.judging:
            # A cycle back to an object being judged (a CVD case and its vulnerabilities name
            # each other): it counts as released under its own id if its own handling allows
            # it. Should it end up withheld after all, what was judged on that is judged again.
            assumed = _decide(self.node, target, self.recipient, self.ctx).released
            if assumed:
                self.assumed.add(ref)
            return assumed
        self.judging.add(ref)
        judged_before = len(self.ok)
        try:
            decision = _decide(self.node, target, self.recipient, self.ctx, self.withheld(target))
        finally:
            self.judging.discard(ref)
        if decision.redactions:
            decision = _only_touching(decision, target)
        found = released_id(target, self.renaming(target, decision)) if decision.released else None
        if found is None and ref in self.assumed:
            for stale in list(self.ok)[judged_before:]:
                del self.ok[stale]
                self.ids.pop(stale, None)
        self.assumed.discard(ref)
        # Released only if something can be released: a derivative with nothing left is not.
        self.ids[ref] = found
        self.ok[ref] = found is not None
        return found is not None

    def released_as(self, ref: str) -> str | None:
        """The id under which the recipient gets a referenced object: its own, or its
        derivative's (None when withheld or not held)."""
        if ref not in self.held or not self.releasable(ref):
            return None
        return self.ids.get(ref)

    def renaming(self, v: StoredVersion, decision: Decision) -> Decision:
        """``decision`` with the references to objects the recipient gets as derivatives
        renamed to the derivatives' ids (a container of a derivative references it)."""
        if not decision.released or not v.refs:
            return decision
        renamed = set()
        for ref in v.refs.split(" "):
            if ref in decision.withheld_refs:
                continue
            as_ = self.released_as(ref)
            if as_ is not None and as_ != ref:
                renamed.add((ref, as_))
        if not renamed:
            return decision
        return dataclasses.replace(decision, outcome=RELEASE_REDACTED, renamed=frozenset(renamed))


def _capped_by_newest(decision: Decision, refusal: Verdict | None) -> Decision:
    if refusal is None:
        return decision
    why = f"the newest version of this object is withheld: {refusal.sentence}"
    return Decision(WITHHOLD, (*decision.verdicts, Verdict(refusal.rule, False, why)))


def unseen_by(
    node: Node, party: Party, versions: Sequence[StoredVersion], ctx: Context | None = None
) -> frozenset[str]:
    """The held objects these versions reference (to ``DEPTH`` levels) that ``party`` may not
    see: what an explanation for it must not tell apart from objects the node does not hold."""
    ctx = ctx or context(node)
    if party.id == ctx.home:
        return frozenset()
    refs = _References(node, party, ctx, versions)
    return frozenset(r for r in refs.loaded() if not refs.releasable(r))


def _only_touching(decision: Decision, v: StoredVersion) -> Decision:
    """Keep only the redaction profiles that change this object (rule 8 needs no empty cut)."""
    kept = touching(decision.redactions, orjson.loads(v.content))
    if kept == decision.redactions:
        return decision
    verdicts = tuple(x for x in decision.verdicts if x.rule != 8 or kept)
    outcome = RELEASE_REDACTED if kept or decision.withheld_refs or decision.renamed else RELEASE
    return dataclasses.replace(decision, outcome=outcome, redactions=kept, verdicts=verdicts)


def release(
    node: Node,
    recipient: Party,
    versions: Sequence[StoredVersion],
    ctx: Context | None = None,
    *,
    decided: Sequence[tuple[StoredVersion, Decision]] | None = None,
    sealed: bool = True,
) -> Verdicts:
    """THE GATE: decide, derive, seal, ledger; returns the bytes the recipient may have.

    ``decided`` passes in the judgement ``judge`` just made of exactly these versions in this
    context (TAXII paging judges before it knows what fills a page), so it is not made twice.
    """
    if decided is None or [v for v, _ in decided] != list(versions):
        decided = judge(node, recipient, versions, ctx)
    released, withheld = _build(decided)
    node.metrics.gate(released, withheld)
    if recipient.id != node.home_party.id and released:
        new_seals: list[Seal] = []
        if sealed:
            released, new_seals = sealing.attach(node, released)
        record(node, recipient, released, new_seals)
    return Verdicts(released, withheld)


def preview(
    node: Node, recipient: Party, decided: Sequence[tuple[StoredVersion, Decision]]
) -> Verdicts:
    """The bytes ``recipient`` would receive for versions ``judge`` just decided, built exactly
    as ``release`` builds them but neither sealed nor written to the ledger: a preview is not a
    release (nothing has left the node; ``kizuna preview --out``, the home's ``/api/export?to=``).
    """
    released, withheld = _build(decided)
    return Verdicts(released, withheld)


def _build(
    decided: Sequence[tuple[StoredVersion, Decision]],
) -> tuple[list[Release], list[tuple[StoredVersion, Decision]]]:
    """The released bytes (derivatives where rules 7 and 8 cut) and what stays, with why."""
    released: list[Release] = []
    withheld: list[tuple[StoredVersion, Decision]] = []
    for v, decision in decided:
        if decision.outcome == WITHHOLD:
            withheld.append((v, decision))
            continue
        if not (decision.redactions or decision.withheld_refs or decision.cut or decision.renamed):
            released.append(Release(v, decision, v.id, v.content, v.digest))
            continue
        try:
            obj = _derivative(v, decision)
        except NothingLeft as exc:
            withheld.append((v, _nothing_left(decision, str(exc))))
            continue
        content = orjson.dumps(obj)
        released.append(Release(v, decision, obj["id"], content, digest(canonical(obj))))
    return released, withheld


def _derivative(v: StoredVersion, decision: Decision) -> dict[str, Any]:
    """The derivative rules 7 and 8 call for; NothingLeft if it cannot be made."""
    return derive(
        orjson.loads(v.content),
        profiles=decision.redactions,
        withheld_refs=decision.withheld_refs,
        cut=decision.cut,
        required=_required(v.type),
        renamed=dict(decision.renamed),
    )


def released_id(v: StoredVersion, decision: Decision) -> str | None:
    """The id the recipient gets: the object's own, or its derivative's deterministic one
    (None when no derivative can be made, so nothing is released)."""
    if decision.redactions or decision.withheld_refs or decision.cut or decision.renamed:
        try:
            return str(_derivative(v, decision)["id"])
        except NothingLeft:
            return None
    return v.id


def describe(node: Node, decided: Sequence[tuple[StoredVersion, Decision]]) -> list[Release]:
    """What a manifest or versions list may say of released objects: ids and versions only.

    Nothing of their content leaves, so nothing is sealed or written to the ledger.
    """
    described = [
        Release(v, d, rid, b"", "")
        for v, d in decided
        if d.released and (rid := released_id(v, d)) is not None
    ]
    node.metrics.gate(described, [])
    return described


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
