"""Import and export commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kizuna.cli.context import Env
from kizuna.services import export as export_service
from kizuna.services import importer
from kizuna.services import parties as party_service

pass_env = click.make_pass_decorator(Env)


def _count(paths: list[Path]) -> int:
    """A cheap size estimate for the progress bar: bytes of all files."""
    return sum(p.stat().st_size for p in paths)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_env
def import_command(env: Env, paths: tuple[Path, ...], quiet: bool) -> None:
    """Import STIX 2.1 bundles, TAXII envelopes or NDJSON files (and folders of them).

    Objects are stored as the home party's import. Ends with a summary of stored, unchanged
    and failed objects, each failure with its reason; exits 1 if any failed.
    """
    node = env.node()
    files = importer.files_under(paths)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TimeRemainingColumn(),
        console=env.err,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=len(files))
        report = importer.import_paths(
            node, files, on_file=lambda p: bar.update(task, advance=1, description=p.name[:40])
        )
    env.console.print(
        f"{report.files} files: [green]{report.stored} stored[/], "
        f"{report.unchanged} unchanged, [red]{len(report.failures)} failed[/]"
    )
    for f in report.failures[:200]:
        env.console.print(f"  [red]failed[/] {f.where} {f.id or ''}: {f.reason}", markup=False)
    if len(report.failures) > 200:
        env.console.print(f"  ... and {len(report.failures) - 200} more")
    if report.failures:
        sys.exit(1)


@click.command("export")
@click.option("--to", "recipient", required=True, help="The party (name or id) to export for.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["bundle", "ndjson"]), default="bundle", show_default=True)
@pass_env
def export_command(env: Env, recipient: str, out: Path | None, fmt: str) -> None:
    """Write exactly what PARTY would receive, through the policy gate."""
    node = env.node()
    party = party_service.find(node, recipient)
    chunks = (
        export_service.bundle_chunks(node, party)
        if fmt == "bundle"
        else export_service.ndjson_chunks(node, party)
    )
    if out is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    tmp = out.with_suffix(out.suffix + ".part")
    with tmp.open("wb") as f:
        for chunk in chunks:
            f.write(chunk)
    tmp.replace(out)
    env.err.print(f"wrote {out}")


COMMANDS = [import_command, export_command]
