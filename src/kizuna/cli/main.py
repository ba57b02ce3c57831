"""The ``kizuna`` command: run and administer a node."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from kizuna import __version__
from kizuna.cli.context import Env
from kizuna.errors import KizunaError

DEFAULT_HOME = "kizuna-data"


class Group(click.Group):
    """Turns kizuna's errors into a one-line message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KizunaError as exc:
            click.secho(f"error: {exc.message}", fg="red", err=True)
            sys.exit(1)


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


def _register() -> None:
    from kizuna.cli import (
        attribution,
        audit,
        correlation,
        cvd,
        demo,
        federation,
        io,
        node,
        parties,
        trust,
        users,
    )

    modules = (
        demo,
        node,
        parties,
        io,
        trust,
        audit,
        federation,
        correlation,
        users,
        attribution,
        cvd,
    )
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli(prog_name="kizuna")
