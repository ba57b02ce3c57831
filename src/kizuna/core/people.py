"""People: user names, roles and what each role permits (pure values, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# analyst: read, import, write objects as the party. publisher: release decisions (consents,
# agreement signatures, embargo exits, CVD and attribution statements). admin: parties, tokens,
# users, settings. auditor: the ledger and history, read-only. Every role may read what its
# party may read; no role implies another.
ROLES: tuple[str, ...] = ("analyst", "publisher", "admin", "auditor")

# What an action needs: any one of these roles.
PERMITS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "import": frozenset({"analyst"}),
    "publish": frozenset({"publisher"}),
    "admin": frozenset({"admin"}),
    "audit": frozenset({"auditor", "admin"}),
    "preview": frozenset({"analyst", "publisher", "admin"}),
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class User:
    id: str
    name: str
    party_id: str
    roles: tuple[str, ...]
    disabled: bool
    created_us: int
    last_visit_us: int | None = None

    def may(self, action: str) -> bool:
        return not self.disabled and bool(PERMITS[action] & set(self.roles))


def check_name(name: str) -> str:
    """A user name: letters, digits and ``._@-``, up to 100; ValueError otherwise."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"user name {name!r}: use letters, digits and . _ @ - (1 to 100, not starting with"
            " a symbol)"
        )
    return name


def check_roles(roles: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Known roles, each once, in ROLES order; ValueError naming an unknown one."""
    for r in roles:
        if r not in ROLES:
            raise ValueError(f"unknown role {r!r}: roles are {', '.join(ROLES)}")
    return tuple(r for r in ROLES if r in roles)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if not password.isprintable():
        raise ValueError("a password may not hold control characters")
    return password


def needed(action: str) -> str:
    """The roles an action needs, for a refusal's message."""
    return " or ".join(r for r in ROLES if r in PERMITS[action])
