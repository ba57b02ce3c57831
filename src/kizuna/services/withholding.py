"""What the gate withholds and why, counted per reason: for `kizuna preview` and after an import.

Every count comes from the gate's own ``judge`` (never a second policy): a reason is the refusing
verdict's rule code and sentence. One fact is added where the policy cannot know it: a marking
it cannot read because this node does not hold its definition is named as such, since that
object waits for the definition to arrive (``services.ingest`` recomputes it then).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kizuna.core.handling import Handling
from kizuna.core.parties import Party
from kizuna.core.policy import RULE_NAMES, Context, Decision
from kizuna.core.taxii import Filters
from kizuna.services import gate
from kizuna.services import parties as party_service
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion

# A stand-in for "any partner" when none is registered yet: no agreement names it, it is no
# client, it holds no classification scheme. Nothing is ever released to it.
ANY_PARTNER = Party(
    id="identity--00000000-0000-4000-8000-000000000000",
    name="any partner (none registered)",
    jurisdiction="EU",
    kind="private",
)
_BATCH = 2000
_STIX_ID = re.compile(
    r"\b[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)


@dataclass(frozen=True, order=True)
class Reason:
    """Why the gate withholds an object: the refusing rule and its sentence."""

    rule: int
    sentence: str

    @property
    def code(self) -> str:
        return f"rule-{self.rule}-{RULE_NAMES[self.rule]}" if self.rule in RULE_NAMES else "none"


@dataclass
class Tally:
    """Objects judged for one party: how many go, and the withheld counted per reason."""

    party: Party
    released: int = 0
    reasons: Counter[Reason] = field(default_factory=Counter)

    @property
    def withheld(self) -> int:
        return sum(self.reasons.values())

    def ranked(self) -> list[tuple[Reason, int]]:
        """Reasons, most objects first (then by rule and sentence, for a stable order)."""
        return sorted(self.reasons.items(), key=lambda rc: (-rc[1], rc[0]))

    def as_json(self) -> dict[str, object]:
        return {
            "party": {"id": self.party.id, "name": self.party.name},
            "released": self.released,
            "withheld": self.withheld,
            "reasons": [
                {"rule": r.rule, "code": r.code, "sentence": r.sentence, "objects": n}
                for r, n in self.ranked()
            ],
        }


class Counting:
    """Counts the gate's decisions per reason, naming markings the node does not hold."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.held: dict[str, bool] = {}
        # Most decisions are shared (the gate remembers them) and most objects share their
        # handling, so a reason is worked out once per (refusal, handling).
        self.reasons: dict[tuple[int, str, str], Reason] = {}

    def add(self, tally: Tally, decided: Iterable[tuple[StoredVersion, Decision]]) -> None:
        withheld = []
        for v, d in decided:
            if d.released:
                tally.released += 1
            else:
                withheld.append((v, d))
        self._look_up({v.handling for v, _ in withheld})
        for v, d in withheld:
            tally.reasons[self.reason(v, d)] += 1

    def reason(self, v: StoredVersion, d: Decision) -> Reason:
        refusal = d.refusal
        if refusal is None:
            return Reason(-1, "withheld")
        key = (refusal.rule, refusal.sentence, v.handling if refusal.rule == 5 else "")
        found = self.reasons.get(key)
        if found is None:
            found = self.reasons[key] = self._reason(v, refusal.rule, refusal.sentence)
        return found

    def _reason(self, v: StoredVersion, rule: int, sentence: str) -> Reason:
        if rule == 5:
            unresolved = gate.subject_of(self.node, v).handling.unresolved
            missing = sorted(m for m in unresolved if self.held.get(m) is False)
            if missing and len(missing) == len(unresolved):
                names = ", ".join(missing)
                return Reason(
                    5,
                    f"it references a marking this node does not hold ({names}): fail closed, "
                    "held until the definition arrives",
                )
        if rule == 7:
            # Rule 7 names the withheld references; counted per reason, their types say it
            # (each withheld reference is counted under its own reason too).
            types = sorted({ref.split("--", 1)[0] for ref in _STIX_ID.findall(sentence)})
            if types:
                head = sentence.split(":", 1)[0]
                return Reason(7, f"{head} (of type {', '.join(types)})")
        return Reason(rule, sentence)

    def _look_up(self, handlings: set[str]) -> None:
        wanted = {
            m
            for raw in handlings
            for m in Handling.from_json(raw).unresolved
            if m.startswith("marking-definition--") and m not in self.held
        }
        if not wanted:
            return
        with self.node.db.read() as conn:
            found = store.latest(conn, wanted)
        for m in wanted:
            self.held[m] = m in found


def partners(node: Node) -> list[Party]:
    """Every registered party but the home; the stand-in ``ANY_PARTNER`` when there is none."""
    found = [p for p in party_service.all_parties(node) if p.id != node.home_party.id]
    return sorted(found, key=lambda p: p.name) or [ANY_PARTNER]


def for_party(
    node: Node,
    recipient: Party,
    ctx: Context | None = None,
    each: Callable[[StoredVersion, Decision], None] | None = None,
) -> Tally:
    """What the node holds (latest versions) that ``recipient`` would get or not, and why;
    ``each`` hears every decision in ``date_added`` order (to list them)."""
    ctx = ctx or gate.context(node)
    counting = Counting(node)
    tally = Tally(recipient)
    filters = Filters(spec_versions=("2.1",))
    after: int | None = None
    while True:
        with node.db.read() as conn:
            rows = store.scan(conn, filters, after, _BATCH)
        decided = gate.judge(node, recipient, rows, ctx)
        counting.add(tally, decided)
        if each is not None:
            for v, d in decided:
                each(v, d)
        if len(rows) < _BATCH:
            return tally
        after = rows[-1].date_added


@dataclass(frozen=True)
class FileWithheld:
    """One imported file: how many objects it stored, and per partner what the gate withholds."""

    file: str
    objects: int
    tallies: tuple[Tally, ...]

    @property
    def withheld(self) -> int:
        return max((t.withheld for t in self.tallies), default=0)


def after_import(node: Node, stored: Mapping[str, Sequence[tuple[int, int]]]) -> list[FileWithheld]:
    """Per imported file, what the gate would withhold from each partner and why, judged now
    (after the whole import, so a marking a later file defines counts as arrived).

    ``stored`` maps each file to the ``date_added`` ranges of the versions it stored; the
    latest version of each of those objects is judged, as a partner's read would.
    """
    ctx = gate.context(node)
    counting = Counting(node)
    recipients = partners(node)
    filters = Filters(spec_versions=("2.1",))
    out = []
    for file, ranges in stored.items():
        tallies = {p.id: Tally(p) for p in recipients}
        objects = 0
        for lo, hi in ranges:
            after = lo - 1
            while after < hi:
                with node.db.read() as conn:
                    rows = store.scan(conn, filters, after, _BATCH, before=hi)
                if not rows:
                    break
                after = rows[-1].date_added
                objects += len(rows)
                for p in recipients:
                    counting.add(tallies[p.id], gate.judge(node, p, rows, ctx))
        out.append(FileWithheld(file, objects, tuple(tallies.values())))
    return out


def in_all(files: Iterable[FileWithheld]) -> list[Tally]:
    """The tallies of several files added up, per party."""
    total: dict[str, Tally] = {}
    for f in files:
        for t in f.tallies:
            into = total.setdefault(t.party.id, Tally(t.party))
            into.released += t.released
            into.reasons.update(t.reasons)
    return list(total.values())
