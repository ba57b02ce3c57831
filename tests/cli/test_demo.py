"""``kizuna demo --once``: four nodes on real loopback sockets tell the federation's story, and
every claim the story makes is checked against the nodes as it is told (✓ or ✗)."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NODES = 4


def free_consecutive_ports(count: int = NODES, attempts: int = 200) -> int:
    """A base port such that base .. base+count-1 are all free on loopback right now."""
    for _ in range(attempts):
        base = random.randint(20_000, 60_000 - count)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + count):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise AssertionError("no run of free ports on loopback")


def run_demo(home: Path) -> subprocess.CompletedProcess[str]:
    """``kizuna demo --once`` on free ports; again on others if one was taken meanwhile (the
    demo exits with uvicorn's start-up failure, 3, when it cannot bind)."""
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", "from kizuna.cli.main import main; main()",
             "demo", "--once", "--port", str(free_consecutive_ports())],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "KIZUNA_HOME": str(home), "COLUMNS": "200",
                 "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        if not (done.returncode == 3 and "address already in use" in done.stderr.lower()):
            return done
    return done


def test_the_demo_tells_its_story_and_every_claim_holds(tmp_path: Path) -> None:
    done = run_demo(tmp_path / "home")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Traceback" not in out + done.stderr
    claims = [line.strip() for line in out.splitlines() if line.strip().startswith(("✓", "✗"))]
    failed = [c for c in claims if c.startswith("✗")]
    assert not failed, "\n".join(failed)
    assert len(claims) >= 12, out
    assert "claims did not hold" not in out
    # The story's key moments are among the claims checked.
    text = " ".join(out.split())
    for moment in ("sees DE VS-VERTRAULICH as JP", "stops there", "a receipt came back",
                   "quarantined it", "never release it onward", "keeps the dissent",
                   "two sign, one abstains", "holds nothing of the case"):  # fmt: skip
        assert moment in text, moment
    # Each node had its own folder and SQLite under KIZUNA_HOME/demo.
    homes = sorted(p.name for p in (tmp_path / "home" / "demo").iterdir())
    assert len(homes) == NODES
    assert all((tmp_path / "home" / "demo" / h / "kizuna.db").exists() for h in homes)
