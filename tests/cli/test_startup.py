"""`kizuna --help` and `--version` start without the node's machinery (no SQLAlchemy, FastAPI,
Alembic or uvicorn imported), and the table of lazily loaded commands is the commands' own."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest

from kizuna.cli import main

HEAVY = ("sqlalchemy", "fastapi", "alembic", "uvicorn", "httpx", "cryptography")


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    probe = (
        "import sys\n"
        "from kizuna.cli.main import main\n"
        f"sys.argv = ['kizuna', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_the_lazy_table_names_every_command_and_its_module() -> None:
    defined: dict[str, str] = {}
    for module in main.MODULES:
        for command in importlib.import_module(f"kizuna.cli.{module}").COMMANDS:
            defined[command.name or ""] = module
    table = {name: module for name, (module, _) in main.LAZY.items()}
    assert table == defined, "add each new top-level command to kizuna.cli.main.LAZY"


def test_help_lists_every_command_and_each_runs_its_own_help() -> None:
    from click.testing import CliRunner

    shown = CliRunner().invoke(main.cli, ["--help"]).output
    for name in main.LAZY:
        assert f"  {name} " in shown, name
    for name in ("backup", "node", "audit"):
        sub = CliRunner().invoke(main.cli, [name, "--help"])
        assert sub.exit_code == 0 and "Usage:" in sub.output
    assert isinstance(main.cli.get_command(click.Context(main.cli), "serve"), click.Command)
