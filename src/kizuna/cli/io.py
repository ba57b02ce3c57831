"""Import and export commands."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from kizuna.cli.context import Env
from kizuna.services import export as export_service
from kizuna.services import importer
from kizuna.services import misp as misp_service
from kizuna.services import parties as party_service

pass_env = click.make_pass_decorator(Env)


def _count(paths: list[Path]) -> int:
    """A cheap size estimate for the progress bar: bytes of all files."""
    return sum(p.stat().st_size for p in paths)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--restart",
    is_flag=True,
    help="Ignore the journal of earlier runs and read every file again (nothing is stored twice).",
)
@pass_env
def import_command(env: Env, paths: tuple[Path, ...], quiet: bool, restart: bool) -> None:
    """Import STIX bundles (2.1; 2.0 is upgraded), TAXII envelopes, NDJSON and MISP events.

    Files and folders of any size are streamed and stored in batches as the home party's import;
    the format of each file is detected. An interrupted import resumes where it stopped when run
    again (files already imported are skipped; --restart reads them again). Ends with a summary
    of stored, unchanged and failed objects, each failure with its reason; exits 1 if any failed.
    """
    node = env.node()
    files = importer.files_under(paths)
    objects = [0]
    started = time.monotonic()

    def describe() -> str:
        rate = objects[0] / max(time.monotonic() - started, 1e-6)
        return f"{objects[0]:,} objects ({rate:,.0f}/s)"

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=env.err,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=_count(files))

        def on_objects(n: int) -> None:
            objects[0] += n
            bar.update(task, description=describe())

        report = importer.import_paths(
            node,
            files,
            progress=on_objects,
            on_bytes=lambda n: bar.update(task, advance=n),
            resume=not restart,
        )
    extra = f", {report.events} MISP events" if report.events else ""
    if report.skipped:
        extra += f", {report.skipped} files already imported (skipped; --restart reads them again)"
    if report.resumed:
        extra += f", {report.resumed} files resumed"
    env.console.print(
        f"{report.files} files{extra}: [green]{report.stored} stored[/], "
        f"{report.unchanged} unchanged, [red]{len(report.failures)} failed[/]"
    )
    for f in report.failures[:200]:
        # Escape the reason (it quotes user data), and never wrap: each failure is one line.
        line = escape(f"{f.where} {f.id or ''}: {f.reason}")
        env.console.print(f"  [red]failed[/] {line}", soft_wrap=True)
    if len(report.failures) > 200:
        env.console.print(f"  ... and {len(report.failures) - 200} more")
    if report.warnings:
        env.console.print(f"  {len(report.warnings)} notes (first 5):")
        for f in report.warnings[:5]:
            env.console.print(
                f"  [yellow]note[/] {escape(f'{f.where}: {f.reason}')}", soft_wrap=True
            )
    if report.failures:
        sys.exit(1)


@click.command("export")
@click.option("--to", "recipient", required=True, help="The party (name or id) to export for.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["bundle", "ndjson", "misp"]),
    default="bundle",
    show_default=True,
    help="One STIX bundle, one object per line (NDJSON), or MISP events (JSON a MISP loads).",
)
@pass_env
def export_command(env: Env, recipient: str, out: Path | None, fmt: str) -> None:
    """Write exactly what PARTY would receive, through the policy gate."""
    node = env.node()
    party = party_service.find(node, recipient)
    chunks: Iterable[bytes]
    if fmt == "misp":
        # MISP events are built whole by misp-stix: this format is not streamed.
        chunks = [misp_service.misp_json(node, party)]
    elif fmt == "bundle":
        chunks = export_service.bundle_chunks(node, party)
    else:
        chunks = export_service.ndjson_chunks(node, party)
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
