"""Loading MISP warning lists from a folder (the ``warninglists`` setting), once per process."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import orjson

from kizuna.core.warninglists import WarningList, WarningLists
from kizuna.services.node import Node

log = logging.getLogger("kizuna.warninglists")


@functools.lru_cache(maxsize=4)
def load(folder: str) -> WarningLists:
    """Every ``lists/*/list.json`` (or ``*/list.json``) under ``folder``."""
    root = Path(folder)
    files = sorted(root.glob("lists/*/list.json")) or sorted(root.glob("*/list.json"))
    lists = []
    for f in files:
        try:
            lists.append(WarningList.parse(orjson.loads(f.read_bytes())))
        except (OSError, orjson.JSONDecodeError, KeyError) as exc:
            log.warning("skipping warning list %s: %s", f, exc)
    log.info("warning lists loaded", extra={"folder": folder, "lists": len(lists)})
    return WarningLists(lists)


def for_node(node: Node) -> WarningLists:
    """The node's warning lists, or an empty set when none are configured."""
    folder = str(node.settings().get("warninglists") or "")
    return load(folder) if folder else WarningLists([])
