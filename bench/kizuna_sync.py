"""Run the ``kizuna`` command with another SQLite ``synchronous`` level: a benchmark variant only.

    python bench/kizuna_sync.py NORMAL --home DIR serve --port 8470

kizuna opens SQLite with ``PRAGMA synchronous=FULL`` (WAL mode): a commit is on disk before it
is acknowledged, so it survives a power cut. With NORMAL a commit survives a crash of the
process but not of the machine. The benchmark measures both so the cost of FULL is known.
"""

from __future__ import annotations

import sys
from typing import Any

from kizuna.cli.main import main
from kizuna.storage import database

LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _with_synchronous(level: str) -> None:
    original = database.Database.__init__

    def init(self: database.Database, url: str, *, synchronous: str = level, **kw: Any) -> None:
        original(self, url, synchronous=synchronous, **kw)

    database.Database.__init__ = init  # type: ignore[method-assign]


if __name__ == "__main__":
    level = sys.argv.pop(1).upper()
    if level not in LEVELS:
        raise SystemExit(f"synchronous must be one of {', '.join(LEVELS)}")
    _with_synchronous(level)
    sys.argv[0] = "kizuna"
    main()
