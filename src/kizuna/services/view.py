"""The index of a party's view: the view keys the gate withholds from it, remembered.

The gate decides a version from its view key (type, source, submitter, path and handling;
storage.view_keys), its id (only where a consent names objects), its references and the context.
A key the gate withholds from a party, decided for an id no consent names and with every
reference released (``gate.decide_alike``), has every version withheld from that party but
those a consent names by id: rule 7 only ever withholds more. A page for that party then reads
the versions of the other keys and of the named ids only (``storage.objects.scan_keys``), and
the gate still judges every version it reads. The index never decides: it remembers.

Decisions are remembered across requests while they hold: while the context's inputs are the
same (parties' clients, agreements, consents, default TLP; the recipient is part of each entry)
and inside the window of time in which none of them changes (``core.view.window``: agreement
validity, consent expiry, embargo ends).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import Connection

from kizuna.core.handling import Handling
from kizuna.core.parties import Party
from kizuna.core.policy import Context
from kizuna.core.taxii import Filters
from kizuna.core.view import Window, window
from kizuna.services import gate
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import view_keys
from kizuna.storage.view_keys import ViewKey

# Ids consents name among withheld keys that a page reads one by one; past this many, the keys
# of their originators are read whole instead.
_MAX_NAMED = 500
# Remembered decisions (party, key) before the memory starts afresh.
_MAX_REMEMBERED = 200_000
_CONTEXT_INPUTS = tuple(
    f.name for f in dataclasses.fields(Context) if f.name not in ("now_us", "memo")
)


@dataclass(frozen=True)
class Scope:
    """What a page for one party reads: the versions of ``keys``, and of the ``named`` ids
    among the versions of ``closed`` keys, up to ``ceiling``."""

    keys: tuple[int, ...]
    closed: tuple[int, ...]
    named: tuple[str, ...]
    ceiling: int


@dataclass
class _Memory:
    inputs: tuple[object, ...]
    window: Window
    withheld: dict[tuple[Party, int], bool]


def scope(
    node: Node, conn: Connection, caller: Party, ctx: Context, filters: Filters, after: int | None
) -> Scope | None:
    """The keys worth reading for the caller after ``after``; None when no key holding
    versions after it is withheld whole (then reading everything costs nothing more)."""
    if caller.id == ctx.home or filters.ids:
        return None  # the home party sees everything; ids find their few rows by themselves
    # Read the ceiling first: every version up to it is committed, so its key is listed below.
    ceiling = store.last_date_added(conn)
    recent = _definitions(node, conn, view_keys.added_after(conn, after))
    memory = _memory(node, ctx)
    keys: list[ViewKey] = []
    closed: list[ViewKey] = []
    for key in recent:
        if _matches(key, filters):
            (closed if _withheld(node, memory, caller, key, ctx) else keys).append(key)
    if not closed:
        return None
    named = _named(ctx, closed)
    if len(named) > _MAX_NAMED:
        sources = {s for s, cs in ctx.consents.items() if any(c.objects for c in cs)}
        keys += [k for k in closed if k.source in sources]
        closed = [k for k in closed if k.source not in sources]
        named = set()
    return Scope(
        tuple(k.id for k in keys),
        tuple(k.id for k in closed if named),
        tuple(sorted(named)),
        ceiling,
    )


def _matches(key: ViewKey, filters: Filters) -> bool:
    return (
        (not filters.types or key.type in filters.types)
        and (not filters.sources or key.source in filters.sources)
        and (not filters.submitted_by or key.submitted_by in filters.submitted_by)
    )


def _named(ctx: Context, closed: list[ViewKey]) -> set[str]:
    """Ids that consents by the originators of withheld keys name (the gate judges those)."""
    return {
        i
        for source in {k.source for k in closed}
        for c in ctx.consents.get(source, ())
        for i in c.objects
    }


def _definitions(node: Node, conn: Connection, ids: list[int]) -> list[ViewKey]:
    """The given keys; a key never changes, so each is read once per process."""
    known: dict[int, ViewKey] = node.cache.setdefault("view_keys", {})
    missing = [k for k in ids if k not in known]
    if missing:
        known.update(view_keys.load(conn, missing))
    return [known[k] for k in ids]


def _memory(node: Node, ctx: Context) -> _Memory:
    """The remembered decisions, if they still hold in this context; else an empty memory."""
    inputs = tuple(getattr(ctx, name) for name in _CONTEXT_INPUTS)
    memory = node.cache.get("view")
    if (
        not isinstance(memory, _Memory)
        or not _same(memory.inputs, inputs)
        or not memory.window.holds_at(ctx.now_us)
        or len(memory.withheld) > _MAX_REMEMBERED
    ):
        memory = _Memory(inputs, window(ctx), {})
        node.cache["view"] = memory
    return memory


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return all(x is y or x == y for x, y in zip(a, b, strict=True))


def _withheld(node: Node, memory: _Memory, caller: Party, key: ViewKey, ctx: Context) -> bool:
    found = memory.withheld.get((caller, key.id))
    if found is None:
        found = not gate.decide_alike(node, caller, key, ctx).released
        memory.withheld[(caller, key.id)] = found
        handling = Handling.from_json(key.handling)
        memory.window = memory.window.narrowed(window(ctx, [handling]))
    return found


def remembered(node: Node, party: Party, key: int) -> bool | None:
    """What the index holds of the gate's decision on a key for a party: True (withheld),
    False (released) or None (not taken, or no longer holding)."""
    memory = node.cache.get("view")
    return memory.withheld.get((party, key)) if isinstance(memory, _Memory) else None
