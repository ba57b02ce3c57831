"""How listing commands print: a table on a terminal, whole tab-separated lines in a pipe (ids
are never cut or wrapped), or JSON with ``--json``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from kizuna.cli.context import Env

F = TypeVar("F", bound=Callable[..., Any])


def json_option(f: F) -> F:
    """``--json``: print a JSON array (one object per row, full values)."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per row.")(
        f
    )


def emit(env: Env, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, as_json: bool) -> None:
    """Print rows under ``columns``: JSON, TSV in a pipe, or a table on a terminal."""
    if as_json:
        import orjson

        records = [dict(zip(columns, row, strict=True)) for row in rows]
        click.echo(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode())
        return
    if not sys.stdout.isatty():
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join("-" if v is None else str(v) for v in row))
        return
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row))
    env.console.print(table, soft_wrap=True)
