"""`kizuna import` of CSAF files through the real CLI: the summary says what was verified."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from csaf_world import advisory
from kizuna.cli.main import cli
from kizuna.core.csaf.writer import dumps, write_advisory, write_vex
from shared_data import require_shared_data

OASIS = ("csaf", "oasis-tcs-csaf", "csaf_2.0", "examples", "csaf")


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


def test_csaf_show_writes_back_the_imported_document_byte_for_byte(
    home: list[str], tmp_path: Path
) -> None:
    source = require_shared_data(*OASIS, "bsi-2022-0001.json")
    assert run(*home, "import", "--quiet", str(source)).exit_code == 0
    out = tmp_path / "back.json"
    shown = run(*home, "csaf", "show", "BSI-2022-0001", "--out", str(out))
    assert shown.exit_code == 0, shown.output
    assert out.read_bytes() == source.read_bytes()
    missing = run(*home, "csaf", "show", "NO-SUCH-ID")
    assert missing.exit_code != 0 and "no CSAF document imported" in " ".join(
        missing.output.split()
    )


def test_csaf_show_asks_for_a_note_id_when_a_tracking_id_is_shared(
    home: list[str], tmp_path: Path
) -> None:
    for write in (write_advisory, write_vex):
        path = tmp_path / f"{write.__name__}.json"
        path.write_bytes(dumps(write(advisory())))
        assert run(*home, "import", "--quiet", str(path)).exit_code == 0
    both = run(*home, "csaf", "show", "KIZUNA-CVD-2026-0001")
    text = " ".join(both.output.split())
    assert both.exit_code != 0 and "2 CSAF documents carry this tracking id" in text
    note_id = text.split("give one: ")[1].split(" ")[0]
    one = run(*home, "csaf", "show", note_id)
    assert one.exit_code == 0 and b'"csaf_' in one.stdout_bytes
