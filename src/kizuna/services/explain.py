"""``explain`` and ``preview``: what a party would get, and why — without releasing anything."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kizuna.core.handling import Classification, Handling
from kizuna.core.parties import Party
from kizuna.core.policy import Decision, Verdict
from kizuna.core.taxii import Filters
from kizuna.errors import NotFound
from kizuna.services import gate, state
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion

_BATCH = 2000


@dataclass(frozen=True)
class Explained:
    """One object version's decision for one party."""

    version: StoredVersion
    decision: Decision

    @property
    def released_id(self) -> str | None:
        """The id the party would receive (a derivative's own id), or None when withheld."""
        return gate.released_id(self.version, self.decision) if self.decision.released else None

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return self.decision.verdicts


def explain(
    node: Node, object_id: str, recipient: Party, asker: Party | None = None
) -> list[Explained]:
    """The decision on every version of one object for ``recipient``, newest last.

    Asked by a partner (``asker``, explaining its own object), it is made over what that
    partner may see: a reference withheld from the asker counts as one the node does not hold,
    so the answer never tells it whether an id it references is held, or withheld from anyone.
    """
    with node.db.read() as conn:
        versions = store.versions_of(conn, object_id)
    if not versions:
        raise NotFound(f"this node holds no object {object_id}")
    ctx = gate.context(node)
    unseen = gate.unseen_by(node, asker, versions, ctx) if asker is not None else frozenset()
    return [Explained(v, d) for v, d in gate.judge(node, recipient, versions, ctx, unseen=unseen)]


def preview(node: Node, recipient: Party, *, include_withheld: bool = False) -> Iterator[Explained]:
    """Exactly what ``recipient`` would receive (latest versions), and optionally what not."""
    filters = Filters(spec_versions=("2.1",))
    ctx = gate.context(node)
    after: int | None = None
    while True:
        with node.db.read() as conn:
            rows = store.scan(conn, filters, after, _BATCH)
        for v, d in gate.judge(node, recipient, rows, ctx):
            if d.released or include_withheld:
                yield Explained(v, d)
        if len(rows) < _BATCH:
            return
        after = rows[-1].date_added


@dataclass(frozen=True)
class LocalView:
    """How this node sees one object: its handling, and its classification in our own scheme."""

    version: StoredVersion
    handling: Handling
    local_level: Classification | None
    under: str | None  # the agreement that gives the equivalence


def local_view(node: Node, object_id: str) -> LocalView:
    """The latest version of an object as held here (a recipient marks what it receives with its
    own equivalent level: the equivalence comes from an active agreement with the originator)."""
    with node.db.read() as conn:
        found = store.latest(conn, [object_id]).get(object_id)
    if found is None:
        raise NotFound(f"this node holds no object {object_id}")
    handling = gate.subject_of(node, found).handling
    level, under = None, None
    home = node.home_party
    if handling.classification is not None and home.scheme:
        if handling.classification.scheme == home.scheme:
            level = handling.classification
        else:
            now = node.now()
            for a in sorted(state.current(node).agreements, key=lambda a: a.id):
                if a.inactive_reason(now) or not (a.includes(home.id) and a.includes(found.source)):
                    continue
                equivalent = a.equivalent(handling.classification, home.scheme)
                if equivalent is not None:
                    level, under = Classification(home.scheme, equivalent), a.ref
                    break
    return LocalView(found, handling, level, under)
