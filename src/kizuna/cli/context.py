"""What every command shares: the node's folder and database, opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:  # imported when a command opens the node: `kizuna --help` stays quick
    from kizuna.services.node import Node


@dataclass
class Env:
    home: Path
    database_url: str | None
    _node: Node | None = field(default=None, repr=False)
    # Soft wrap: a message is never broken inside a path, an id or a token (the terminal wraps).
    console: Console = field(default_factory=lambda: Console(soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))

    def node(self) -> Node:
        """The opened node (NodeNotInitialised says how to create one)."""
        if self._node is None:
            from kizuna.services.node import open_node

            self._node = open_node(self.home, database_url=self.database_url)
        return self._node

    def adopt(self, node: Node) -> None:
        self._node = node

    def close(self) -> None:
        if self._node is not None:
            self._node.close()
            self._node = None
