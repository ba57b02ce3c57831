"""The ``ledger-heads`` file in the node folder: every signed checkpoint, appended and synced.

It lives outside the database (SQLite or PostgreSQL alike), so a rewrite of the database
cannot reach it silently. One JSON line per checkpoint; lines are only ever appended.
"""

from __future__ import annotations

import os
from pathlib import Path

from kizuna.core.ledger import Checkpoint
from kizuna.core.ledger_heads import HEADS_FILE, head_line


def path_in(home: Path) -> Path:
    return home / HEADS_FILE


def append(home: Path, cp: Checkpoint) -> None:
    """Append a head and fsync it (and the folder, when the file is new) before returning.

    One ``write`` of one short line with O_APPEND: lines from several processes never mix.
    """
    path = path_in(home)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, head_line(cp))
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        folder = os.open(home, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def read(home: Path) -> bytes | None:
    """The file's bytes, or None when there is no such file."""
    try:
        return path_in(home).read_bytes()
    except FileNotFoundError:
        return None
