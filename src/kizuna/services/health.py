"""Liveness and readiness of a node, for load balancers and orchestrators."""

from __future__ import annotations

import functools

from kizuna.services.node import KEY_FILE, Node
from kizuna.storage import migrate


@functools.cache
def _head() -> str | None:
    return migrate.head()


def not_ready(node: Node) -> list[str]:
    """Why the node should not take traffic yet (empty when it is ready): the database does not
    answer, its schema is not this release's, or the key file is gone."""
    reasons: list[str] = []
    try:
        at = migrate.current(node.db)
    except Exception as exc:  # any driver error: the database is not there
        return [f"the database does not answer: {type(exc).__name__}"]
    if at != _head():
        reasons.append(
            f"the database schema is {at}, this release needs {_head()}: kizuna db upgrade"
        )
    if not (node.home / KEY_FILE).is_file():
        reasons.append(f"the key file {KEY_FILE} is missing from the node folder")
    return reasons
