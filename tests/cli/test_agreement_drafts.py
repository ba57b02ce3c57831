"""A draft agreement can be deleted (one that failed, or came from the wrong template); one that
was ever more than a draft cannot; a template missing a required field is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kizuna.cli.main import cli


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def home(tmp_path: Path) -> list[str]:
    args = ["--home", str(tmp_path / "node")]
    assert run(*args, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU",
               "--kind", "csirt").exit_code == 0  # fmt: skip
    public = run("key", "create", str(tmp_path / "bsi.key")).stdout.strip()
    added = run(*args, "party", "add", "BSI", "--jurisdiction", "DE", "--kind", "government",
                "--public-key", public)  # fmt: skip
    assert added.exit_code == 0, added.output
    return args


def template(tmp_path: Path, body: str) -> str:
    path = tmp_path / "t.yaml"
    path.write_text(body)
    return str(path)


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ('parties: [CERT-EU, BSI]\nvalid_from: "2026-01-01T00:00:00Z"\n', "title"),
        ("title: EU-DE\n", "parties"),
        ("title: EU-DE\nparties: []\n", "parties"),
    ],
)
def test_a_template_missing_a_required_field_is_refused(
    home: list[str], tmp_path: Path, body: str, missing: str
) -> None:
    refused = run(*home, "agreement", "create", template(tmp_path, body))
    assert refused.exit_code == 1
    assert f"lacks the required field {missing}" in " ".join(refused.stderr.split())
    assert run(*home, "agreement", "list").stdout.count("agreement--") == 0


def test_a_draft_is_deleted_and_an_agreement_that_was_more_is_not(
    home: list[str], tmp_path: Path
) -> None:
    made = run(
        *home, "agreement", "create", template(tmp_path, "title: EU-DE\nparties: [CERT-EU, BSI]\n")
    )
    assert made.exit_code == 0, made.output
    draft = made.stdout.strip()
    deleted = run(*home, "agreement", "delete", draft)
    assert deleted.exit_code == 0 and "1 draft version" in deleted.stdout
    assert draft not in run(*home, "agreement", "list").stdout
    again = run(*home, "agreement", "delete", draft)
    assert again.exit_code == 1 and draft in again.stderr

    other = run(
        *home, "agreement", "create", template(tmp_path, "title: B\nparties: [CERT-EU, BSI]\n")
    )
    kept = other.stdout.strip()
    assert run(*home, "agreement", "terminate", kept).exit_code == 0
    refused = run(*home, "agreement", "delete", kept)
    assert refused.exit_code == 1 and "terminated" in refused.stderr
    assert kept in run(*home, "agreement", "list").stdout
