"""``kizuna user`` and ``kizuna audit actions`` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from kizuna.cli.main import cli


def run(home: Path, *args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(
        cli, ["--home", str(home), *args], input=stdin, env={"COLUMNS": "250"}
    )
    assert "Traceback" not in result.output
    return result


def test_user_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "n"
    assert (
        run(
            home,
            "init",
            "--party-name",
            "CERT-EU",
            "--jurisdiction",
            "EU",
            "--kind",
            "csirt",
            "--scheme",
            "EU",
        ).exit_code
        == 0
    )
    added = run(home, "user", "add", "aiko", "--role", "analyst", "--role", "publisher")
    assert added.exit_code == 0, added.output
    password = added.stdout.strip()
    assert len(password) >= 12
    assert (
        run(home, "user", "add", "ben", "--password-stdin", stdin="a long enough pw\n").stdout == ""
    )
    listed = run(home, "user", "list").stdout
    assert "aiko" in listed and "analyst, publisher" in listed and password not in listed
    assert run(home, "user", "role", "ben", "auditor").stdout.strip() == "ben: auditor"
    assert run(home, "user", "role", "ben", "root").exit_code == 2
    assert run(home, "user", "disable", "ben").stdout.strip() == "ben: disabled"
    new = run(home, "user", "reset-password", "aiko").stdout.strip()
    assert new != password and len(new) >= 12
    missing = run(home, "user", "role", "nobody", "analyst")
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.stderr
    token = run(home, "user", "token", "aiko").stdout.strip()
    assert token.startswith("kz_")
    shown = " ".join(run(home, "audit", "actions").stdout.split())
    for line in ("user add aiko", "user role ben auditor", "user disable ben", "user token aiko"):
        assert line in shown
    assert "cli:" in shown
