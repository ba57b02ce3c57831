"""``kizuna attribution``: a case, ACH and a statement from the command line; errors named."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner, Result

from kizuna.cli.main import cli

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
CAMPAIGN = "campaign--c1000000-0000-4000-8000-000000000001"
APT = "intrusion-set--c1000000-0000-4000-8000-000000000002"


def run(home: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=True)
    assert "Traceback" not in result.output
    return result


def ok(home: Path, *args: str) -> str:
    r = run(home, *args)
    assert r.exit_code == 0, r.output + r.stderr
    return r.stdout.strip()


def test_a_case_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "node"
    ok(home, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU", "--kind", "csirt")
    ok(home, "party", "add", "BSI", "--jurisdiction", "DE", "--kind", "government")
    stamp = "2026-11-01T00:00:00.000Z"
    bundle = tmp_path / "b.json"
    bid = "bundle--c1000000-0000-4000-8000-000000000003"
    bundle.write_bytes(orjson.dumps({"type": "bundle", "id": bid, "objects": [
        {"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN, "created": stamp,
         "modified": stamp, "name": "Paper Lantern", "object_marking_refs": [CLEAR]},
        {"type": "intrusion-set", "spec_version": "2.1", "id": APT, "created": stamp,
         "modified": stamp, "name": "APT-X", "object_marking_refs": [CLEAR]}]}))  # fmt: skip
    ok(home, "import", str(bundle))
    a = "attribution"
    case = ok(home, a, "case", "Paper Lantern", "--about", CAMPAIGN, "--participant", "BSI")
    h1 = ok(home, a, "hypothesis", case, "--actor", APT, "--name", "APT-X")
    h2 = ok(home, a, "hypothesis", case)
    e1 = ok(home, a, "evidence", case, "--grade", "B2", "--kind", "infrastructure")
    ok(home, a, "rate", case, e1, f"{h1}=C", f"{h2}=II", "--relevance", "high")
    ok(home, a, "assess", case, h1, "--scale", "phia", "--likelihood", "highly likely",
       "--confidence", "high", "--rationale", "shared C2")  # fmt: skip
    shown = run(home, a, "case", "--show", case)
    assert "APT-X" in shown.stdout and "highly likely" in shown.stdout
    picture = orjson.loads(ok(home, a, "case", "--show", case, "--json"))
    [unknown] = [h for h in picture["hypotheses"] if h["hypothesis"]["id"] == h2]
    # II on a B2 item (high credibility sqrt2) of high relevance (sqrt2): -2 * 2 = -4
    assert unknown["partners"][0]["ach"]["weighted"] == -4.0
    assert ok(home, a, "case").startswith(case)
    sid = ok(home, a, "statement", case, "--text", "APT-X did it.", "--actor", APT,
             "--subject", CAMPAIGN, "--likelihood", "very likely", "--confidence", "moderate",
             "--invite", "BSI", "--release-at", "2030-01-01T00:00:00Z")  # fmt: skip
    ok(home, a, "sign", sid)
    out = run(home, a, "release", sid)
    assert out.exit_code == 0 and "published for 1 signatories" in out.stderr
    assert "2030-01-01T00:00:00" in out.stderr and len(out.stdout.split()) == 2


def test_errors_are_named(tmp_path: Path) -> None:
    home = tmp_path / "node"
    ok(home, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU", "--kind", "csirt")
    r = run(home, "attribution", "case", "X", "--about", APT.replace("intrusion-set", "malware"))
    assert r.exit_code == 1 and "a case is about" in r.stderr
    r = run(home, "attribution", "evidence", "grouping--c1000000-0000-4000-8000-000000000009",
            "--grade", "B2", "--kind", "technical")  # fmt: skip
    assert r.exit_code == 1 and "no attribution case" in r.stderr
    r = run(home, "attribution", "sign", "note--c1000000-0000-4000-8000-000000000009", "--abstain",
            "--variant", "x")  # fmt: skip
    assert r.exit_code != 0 and "exclude each other" in r.output + r.stderr
