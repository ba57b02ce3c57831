"""The ``kizuna`` command: run and administer a node."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click

from kizuna import __version__
from kizuna.cli.context import Env
from kizuna.errors import KizunaError

DEFAULT_HOME = "kizuna-data"


# Every top-level command: the module that defines it and its one-line help, so that
# `kizuna --help` and `kizuna --version` start without importing the node's machinery (each
# command's module is imported when the command runs). test_cli checks this table against the
# commands themselves: a new command goes here with its module.
LAZY: dict[str, tuple[str, str]] = {
    "agreement": ("trust", "Agreements: signed, versioned arrangements that govern every release."),
    "attribution": ("attribution", "Joint attribution: a case shared with its participants only."),
    "audit": ("audit", "The ledger: where objects went, and proof it was not altered or cut off."),
    "backup": ("node", "Back up the node into the new folder TARGET (while it serves)."),
    "consent": ("trust", "Consents: an originator's signed permission to release its objects."),
    "csaf": ("io", "CSAF 2.0 documents this node imported."),
    "cvd": ("cvd", "Coordinated vulnerability disclosure: cases, embargoes, SSVC, CSAF."),
    "db": ("node", "Database schema commands."),
    "demo": ("demo", "Run four partner nodes on loopback and tell what they share, and why."),
    "explain": ("trust", "Explain whether OBJECT_ID would go to a party, rule by rule."),
    "export": ("io", "Release to PARTY: write what it receives, through the policy gate."),
    "import": ("io", "Import STIX, TAXII envelopes, NDJSON, MISP events and CSAF advisories."),
    "init": ("node", "Create a node: its home party, its Ed25519 key and its database."),
    "key": ("trust", "Ed25519 keys: the node's (rotate) and key files for offline signers."),
    "match": ("correlation", "Match FILE against every indicator held."),
    "node": ("node", "This node: its party and keys."),
    "party": ("parties", "Parties: the member organisations this node shares with."),
    "peer": ("federation", "Peers: other kizuna nodes this node syncs with over TAXII 2.1."),
    "preview": ("trust", "What a party would receive now, and what the gate withholds from it."),
    "quickstart": ("node", "Create a node with example data if there is none, and serve it."),
    "restore": ("node", "Restore the backup in SOURCE as the node in --home (a new folder)."),
    "serve": ("node", "Serve TAXII 2.1 and the JSON API until Ctrl-C or SIGTERM."),
    "settings": ("node", "Show the node's settings, or show, set or --reset one."),
    "sync": ("federation", "Pull from every peer once (and push where configured)."),
    "token": ("parties", "API tokens: how parties authenticate to this node."),
    "user": ("users", "People: console accounts and personal tokens."),
}


class Group(click.Group):
    """Turns kizuna's errors into a one-line message and exit code 1, never a traceback; loads
    each command's module only when the command is used (LAZY)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KizunaError as exc:
            click.secho(f"error: {exc.message}", fg="red", err=True)
            sys.exit(1)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(LAZY) | set(self._loaded))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._loaded:
            if cmd_name in LAZY:
                _load(LAZY[cmd_name][0])
            else:
                _load_all()  # a command the table does not know yet (test_cli says so)
        return self._loaded.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, LAZY[name][1]) for name in sorted(LAZY)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        self._loaded[name or cmd.name or ""] = cmd

    @property
    def _loaded(self) -> dict[str, click.Command]:
        loaded: dict[str, click.Command] = self.__dict__.setdefault("_kizuna_loaded", {})
        return loaded

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        """Every command (this imports every command module)."""
        _load_all()
        return self._loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._loaded.update(value)


@click.group(
    cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="kizuna")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="KIZUNA_HOME",
    default=DEFAULT_HOME,
    show_default=True,
    help="The node's folder (key, embedded database). Env: KIZUNA_HOME.",
)
@click.option(
    "--database-url",
    envvar="KIZUNA_DATABASE_URL",
    default=None,
    help="Use this database instead of the embedded SQLite, e.g. "
    "postgresql+psycopg://user@host/db. Env: KIZUNA_DATABASE_URL.",
)
@click.pass_context
def cli(ctx: click.Context, home: Path, database_url: str | None) -> None:
    """kizuna: a node of a federated cyber-threat intelligence sharing network.

    Each partner runs a node; nodes speak STIX 2.1 over TAXII 2.1, and every object that leaves
    a node passes one policy gate that enforces the partners' agreements.

    Start with `kizuna init`, add partners with `kizuna party add`, give them tokens with
    `kizuna token create`, and run `kizuna serve`. `kizuna quickstart` does all of it with
    example data.
    """
    ctx.obj = Env(home=home, database_url=database_url)
    ctx.call_on_close(ctx.obj.close)


MODULES = (
    "demo",
    "node",
    "parties",
    "io",
    "trust",
    "audit",
    "federation",
    "correlation",
    "users",
    "attribution",
    "cvd",
)
_imported: set[str] = set()


def _load(module: str) -> None:
    if module in _imported:
        return
    _imported.add(module)
    loaded = importlib.import_module(f"kizuna.cli.{module}")
    for command in loaded.COMMANDS:
        cli.add_command(command)


def _load_all() -> None:
    for module in MODULES:
        _load(module)


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli(prog_name="kizuna")
