"""Listing commands for scripts: --json, whole ids in a pipe, and pages (`audit show`, and
`/api/audit?limit=`)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from kizuna.cli.main import cli
from kizuna.http.app import create_app
from kizuna.services import tokens
from kizuna.services.node import open_node

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def ok(*args: str) -> Result:
    # CliRunner's stdout is no terminal: what a pipe gets. COLUMNS is narrow on purpose.
    result = CliRunner(env={"COLUMNS": "40"}).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A node with two partners, a token and a ledger of 3 × 12 releases."""
    tmp = tmp_path_factory.mktemp("listing")
    args = ["--home", str(tmp / "node")]
    ok(*args, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU", "--kind", "csirt")
    for name in ("Bundesamt für Sicherheit in der Informationstechnik", "NISC"):
        ok(*args, "party", "add", name, "--jurisdiction", "DE", "--kind", "government")
    ok(*args, "token", "create", "NISC", "--name", "a label with spaces")
    objs: list[dict[str, Any]] = [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'listing/{n}')}",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '192.0.2.{n}']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": [CLEAR],
        }
        for n in range(3)
    ]
    feed = tmp / "feed.ndjson"
    feed.write_bytes(b"\n".join(orjson.dumps(o) for o in objs) + b"\n")
    ok(*args, "import", "--quiet", str(feed))
    ok(*args, "export", "--to", "NISC", "--out", str(tmp / "out.json"))
    return args


def test_party_and_token_lists_in_a_pipe_and_as_json(home: list[str]) -> None:
    listed = ok(*home, "party", "list", "--json")
    parties = orjson.loads(listed.stdout)
    assert {p["name"] for p in parties} >= {"CERT-EU", "NISC"}
    piped = ok(*home, "party", "list").stdout.splitlines()
    assert piped[0].split("\t")[:2] == ["name", "id"]
    for p in parties:  # every id whole, on the line of its party, in a 40-column "terminal"
        [line] = [row for row in piped if row.split("\t")[1] == p["id"]]
        assert line.split("\t")[0] == p["name"]
    token_rows = orjson.loads(ok(*home, "token", "list", "--json").stdout)
    assert [t["label"] for t in token_rows] == ["a label with spaces"]
    assert token_rows[0]["id"] in ok(*home, "token", "list").stdout.split()
    assert orjson.loads(ok(*home, "peer", "list", "--json").stdout) == []


def test_audit_show_pages(home: list[str]) -> None:
    everything = orjson.loads(ok(*home, "audit", "show", "--json", "--limit", "1000").stdout)
    assert len(everything) >= 12
    seqs = [e["seq"] for e in everything]
    first = ok(*home, "audit", "show", "--json", "--limit", "5")
    assert [e["seq"] for e in orjson.loads(first.stdout)] == seqs[:5]
    assert f"--after {seqs[4]}" in first.stderr
    pages: list[int] = []
    after = 0
    while True:
        page = ok(*home, "audit", "show", "--limit", "5", "--after", str(after))
        rows = page.stdout.splitlines()[1:]
        pages += [int(r.split("\t")[0]) for r in rows]
        found = re.search(r"--after (\d+)", page.stderr)
        if not found:
            break
        after = int(found.group(1))
    assert pages == seqs
    whole = next(r for r in everything if r["object"].startswith("indicator--"))
    assert whole["object"] in ok(*home, "audit", "show", "--limit", "1000").stdout.split()


def test_api_audit_honours_limit(home: list[str]) -> None:
    node = open_node(Path(home[1]))
    try:
        token = tokens.create(node, node.home_party.id, "audit").value
        client = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})
        everything = client.get("/api/audit", params={"limit": 10_000}).json()
        got: list[int] = []
        params: dict[str, Any] = {"limit": 4}
        while True:
            r = client.get("/api/audit", params=params)
            assert r.status_code == 200 and len(r.json()) <= 4
            got += [e["seq"] for e in r.json()]
            if "Kizuna-Next-After" not in r.headers:
                break
            params["after"] = r.headers["Kizuna-Next-After"]
        assert got == [e["seq"] for e in everything] and len(got) >= 12
        for bad in ({"limit": 0}, {"limit": 10_001}, {"limit": "x"}, {"after": -1}):
            refused = client.get("/api/audit", params=bad)
            assert 400 <= refused.status_code < 500, (bad, refused.status_code)
    finally:
        node.close()


def test_init_and_token_create_never_break_a_path_or_token(tmp_path: Path) -> None:
    home = tmp_path / ("a-rather-long-folder-name-for-the-node-" * 3)
    made = CliRunner(env={"COLUMNS": "40"}).invoke(
        cli, ["--home", str(home), "init", "--party-name", "CERT-EU", "--jurisdiction", "EU",
              "--kind", "csirt"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert str(home) in made.stderr
    token = ok("--home", str(home), "token", "create", "CERT-EU").stdout.strip()
    assert re.fullmatch(r"kz_\S+", token)
