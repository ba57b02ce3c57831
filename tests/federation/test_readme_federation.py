"""The README's federation section, run literally in bash: two nodes, a clean setup (one
identity per party, nothing quarantined), and BSI holding what CERT-EU released to it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from kizuna.cli.main import cli
from kizuna.core.taxii import Filters
from kizuna.services.node import open_node
from kizuna.storage import objects as store

ROOT = Path(__file__).resolve().parents[2]


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Federation", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, re.S)
    return str(block)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's wait loop uses curl")
def test_the_readme_federation_section_makes_a_clean_two_node_setup(tmp_path: Path) -> None:
    port = str(free_port())
    script = readme_block().replace("8471", port)  # the one change: a port free here
    (tmp_path / "src").symlink_to(ROOT / "src")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "200"}
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"CERT-EU: [1-9]\d* pulled, [1-9]\d* new, 0 quarantined", done.stdout), (
        done.stdout
    )

    def listed(home: str, *args: str) -> list[dict[str, object]]:
        out = CliRunner().invoke(cli, ["--home", str(tmp_path / home), *args, "--json"])
        assert out.exit_code == 0, out.output
        rows: list[dict[str, object]] = orjson.loads(out.stdout)
        return rows

    for home in ("cert-eu", "bsi"):
        parties = listed(home, "party", "list")
        assert sorted(str(p["name"]) for p in parties) == ["BSI", "CERT-EU"], parties
    eu = {str(p["name"]): p["id"] for p in listed("cert-eu", "party", "list")}
    bsi = {str(p["name"]): p["id"] for p in listed("bsi", "party", "list")}
    assert eu == bsi, "each party has one identity, the same on both nodes"
    node = open_node(tmp_path / "bsi")
    try:
        with node.db.read() as conn:
            handling = [r.handling for r in store.scan(conn, Filters(), None, 100_000)]
    finally:
        node.close()
    assert handling and not [h for h in handling if '"quarantine"' in h]
