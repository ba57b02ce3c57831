"""Vultron's state machines (CERT/CC, "Designing Vultron", 2022) as plain tables.

- Report management (RM): received → valid | invalid; valid → accepted | deferred;
  deferred ⇄ accepted; invalid → valid (reconsidered); any → closed.
- Embargo management (EM): none → proposed → active ⇄ revise → exited; a proposal may be
  rejected (back to none); a revision accepted or rejected goes back to active.
- Participants of an embargo: invited → signatory | declined | lapsed.
- Case state (CS): the flags vendor aware (V), fix ready (F), fix deployed (D), public (P),
  exploit public (X), attacks observed (A). They only ever get set; F needs V and D needs F.
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.errors import InvalidInput

RM_STATES: tuple[str, ...] = ("received", "valid", "invalid", "accepted", "deferred", "closed")
RM_MOVES: dict[str, frozenset[str]] = {
    "received": frozenset({"valid", "invalid", "closed"}),
    "valid": frozenset({"accepted", "deferred", "closed"}),
    "invalid": frozenset({"valid", "closed"}),
    "accepted": frozenset({"deferred", "closed"}),
    "deferred": frozenset({"accepted", "closed"}),
    "closed": frozenset(),
}

EM_STATES: tuple[str, ...] = ("none", "proposed", "active", "revise", "exited")
# action -> {from: to}
EM_ACTIONS: dict[str, dict[str, str]] = {
    "propose": {"none": "proposed", "active": "revise", "revise": "revise",
                "proposed": "proposed"},
    "accept": {"proposed": "active", "revise": "active"},
    "reject": {"proposed": "none", "revise": "active"},
    "exit": {"active": "exited", "revise": "exited"},
}  # fmt: skip

PARTICIPANT_STATES: tuple[str, ...] = ("invited", "signatory", "declined", "lapsed")
PARTICIPANT_MOVES: dict[str, frozenset[str]] = {
    "invited": frozenset({"signatory", "declined", "lapsed"}),
    "signatory": frozenset(),
    "declined": frozenset({"invited"}),
    "lapsed": frozenset({"invited"}),
}

CS_FLAGS: dict[str, str] = {
    "vendor-aware": "V",
    "fix-ready": "F",
    "fix-deployed": "D",
    "public": "P",
    "exploit-public": "X",
    "attacks-observed": "A",
}
_CS_NEEDS: dict[str, str] = {"fix-ready": "vendor-aware", "fix-deployed": "fix-ready"}
# Case events that end an active embargo at once (Vultron: X or A while embargoed).
EARLY_EXIT: frozenset[str] = frozenset({"exploit-public", "attacks-observed", "public"})


def rm_move(current: str, target: str) -> str:
    if target not in RM_STATES:
        raise InvalidInput(
            f"report state {target!r} is unknown; one of {', '.join(RM_STATES)}",
            code="invalid-transition",
        )
    if target not in RM_MOVES[current]:
        allowed = ", ".join(sorted(RM_MOVES[current])) or "nothing (closed)"
        raise InvalidInput(
            f"a report {current} cannot become {target}; it can become {allowed}",
            code="invalid-transition",
        )
    return target


def em_move(current: str, action: str) -> str:
    table = EM_ACTIONS.get(action)
    if table is None:
        raise InvalidInput(
            f"embargo action {action!r} is unknown; one of {', '.join(EM_ACTIONS)}",
            code="invalid-transition",
        )
    if current not in table:
        raise InvalidInput(
            f"an embargo in state {current} cannot {action}", code="invalid-transition"
        )
    return table[current]


def participant_move(current: str | None, target: str) -> str:
    if target not in PARTICIPANT_STATES:
        raise InvalidInput(f"participant state {target!r} is unknown", code="invalid-transition")
    if current is None:
        if target != "invited":
            raise InvalidInput(
                "only an invited party can accept, decline or lapse", code="not-invited"
            )
        return target
    if target not in PARTICIPANT_MOVES[current]:
        raise InvalidInput(
            f"a participant {current} cannot become {target}", code="invalid-transition"
        )
    return target


def cs_set(flags: frozenset[str], flag: str) -> frozenset[str]:
    if flag not in CS_FLAGS:
        raise InvalidInput(
            f"case state {flag!r} is unknown; one of {', '.join(CS_FLAGS)}",
            code="invalid-transition",
        )
    need = _CS_NEEDS.get(flag)
    if need is not None and need not in flags:
        raise InvalidInput(f"{flag} needs {need} first", code="invalid-transition")
    return flags | {flag}


def cs_string(flags: frozenset[str]) -> str:
    """Vultron's notation, e.g. ``VFdpxa`` (upper case: set)."""
    return "".join(c if name in flags else c.lower() for name, c in CS_FLAGS.items())


@dataclass(frozen=True)
class Transition:
    """One recorded transition: who, when, why."""

    machine: str  # "report", "embargo", "participant", "case", "status", ...
    actor: str
    at: str
    why: str
    detail: dict[str, object]
