"""`kizuna import` of CSAF files through the real CLI: the summary says what was verified."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from csaf_world import advisory
from kizuna.cli.main import cli
from kizuna.core.csaf.writer import dumps, write_vex


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def home(tmp_path: Path) -> list[str]:
    args = ["--home", str(tmp_path / "node")]
    made = run(*args, "init", "--party-name", "BSI", "--jurisdiction", "DE", "--kind", "government")
    assert made.exit_code == 0, made.output
    return args


def test_import_detects_csaf_and_says_what_it_verified(home: list[str], tmp_path: Path) -> None:
    path = tmp_path / "vex.json"
    data = dumps(write_vex(advisory()))
    path.write_bytes(data)
    (tmp_path / "vex.json.sha512").write_text(hashlib.sha512(data).hexdigest() + "  vex.json\n")
    result = run(*home, "import", "--quiet", str(path))
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0, result.output
    assert "1 CSAF advisories: 2 stored" in text
    assert "vex.json.sha512: SHA512 matches" in text


def test_import_of_bad_csaf_exits_1_naming_the_problem(home: list[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"document": {"csaf_version": "2.0", "title": 7}}')
    result = run(*home, "import", "--quiet", str(path))
    text = " ".join(result.stdout.split())
    assert result.exit_code == 1
    assert "0 stored" in text and "not valid CSAF 2.0 (JSON schema)" in text
