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
from kizuna.core.parties import Party
from kizuna.services import csaf_import, importer, withholding
from kizuna.services import export as export_service
from kizuna.services import ledger as ledger_service
from kizuna.services import misp as misp_service
from kizuna.services import parties as party_service
from kizuna.services.node import Node

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
@click.option(
    "--csaf-keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="OpenPGP public keys (armored or binary) to verify CSAF .asc signatures against.",
)
@pass_env
def import_command(
    env: Env, paths: tuple[Path, ...], quiet: bool, restart: bool, csaf_keys: Path | None
) -> None:
    """Import STIX bundles (2.1; 2.0 is upgraded), TAXII envelopes, NDJSON, MISP events and
    CSAF 2.0 advisories.

    Files and folders of any size are streamed and stored in batches as the home party's import;
    the format of each file is detected. A CSAF advisory becomes STIX vulnerabilities plus a note
    keeping the document verbatim, under its TLP; a .sha512/.sha256 beside it must match and an
    .asc beside it is verified against --csaf-keys (the summary says which were). An interrupted
    import resumes where it stopped when run again (files already imported are skipped;
    --restart reads them again). Ends with a summary of stored, unchanged and failed objects,
    each failure with its reason; exits 1 if any failed.
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
            csaf_keys=csaf_keys,
        )
    extra = f", {report.events} MISP events" if report.events else ""
    if report.csaf:
        extra += f", {report.csaf} CSAF advisories"
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
    _print_verified(env, report)
    if report.warnings:
        env.console.print(f"  {len(report.warnings)} notes (first 5):")
        for f in report.warnings[:5]:
            env.console.print(
                f"  [yellow]note[/] {escape(f'{f.where}: {f.reason}')}", soft_wrap=True
            )
    _print_withheld(env, withholding.after_import(node, report.stored_ranges))
    if report.failures:
        sys.exit(1)


_FILES_SHOWN = 30


def _print_verified(env: Env, report: importer.Report) -> None:
    """What was verified of the CSAF files (hashes, signatures): a count and the first few."""
    if not report.verified:
        return
    files = len({v.where for v in report.verified})
    env.console.print(f"  verified {len(report.verified)} hashes/signatures of {files} files:")
    for v in report.verified[:5]:
        env.console.print(
            f"  [green]verified[/] {escape(f'{v.where}: {v.reason}')}", soft_wrap=True
        )
    if len(report.verified) > 5:
        env.console.print(f"  ... and {len(report.verified) - 5} more")


_REASONS_SHOWN = 4


def _print_withheld(env: Env, files: list[withholding.FileWithheld]) -> None:
    """Per file, what the gate withholds from whom and why (import stores; the gate releases)."""
    held = [f for f in files if f.withheld]
    if not files or not held:
        if files:
            env.console.print("  the gate withholds none of it from any partner")
        return
    env.console.print(
        f"  {len(held)} of {len(files)} files hold objects the gate withholds; in all, from"
        " whom and why:"
    )
    for line in withheld_lines(withholding.in_all(files))[: _REASONS_SHOWN * 2]:
        env.console.print(f"    {escape(line)}", soft_wrap=True)
    env.console.print("  per file:")
    for f in held[:_FILES_SHOWN]:
        env.console.print(
            f"  [bold]{escape(f.file)}[/] ({f.objects:,} objects stored)", soft_wrap=True
        )
        for line in withheld_lines(f.tallies)[:_REASONS_SHOWN]:
            env.console.print(f"    {escape(line)}", soft_wrap=True)
    if len(held) > _FILES_SHOWN:
        env.console.print(f"  ... and {len(held) - _FILES_SHOWN} more files")
    env.console.print("  `kizuna preview --to PARTY` counts the reasons for the whole node")


def withheld_lines(tallies: Iterable[withholding.Tally]) -> list[str]:
    """One line per reason: how many objects, from whom ("every partner" when all alike)."""
    by_reason: dict[withholding.Reason, list[tuple[str, int]]] = {}
    everyone = []
    for t in tallies:
        everyone.append(t.party.name)
        for reason, n in t.ranked():
            by_reason.setdefault(reason, []).append((t.party.name, n))
    lines = []
    ranked = sorted(by_reason.items(), key=lambda rw: (-max(n for _, n in rw[1]), rw[0]))
    for reason, who in ranked:
        counts = {n for _, n in who}
        if len(who) == len(everyone) and len(counts) == 1:
            whom = (
                f"{who[0][1]:,} from every partner"
                if len(everyone) > 1
                else (f"{who[0][1]:,} from {who[0][0]}")
            )
        else:
            whom = ", ".join(f"{n:,} from {name}" for name, n in who)
        lines.append(f"{whom}: {reason.code}: {reason.sentence}")
    return lines


FORMATS = click.Choice(["bundle", "ndjson", "misp"])
FORMAT_HELP = "One STIX bundle, one object per line (NDJSON), or MISP events (JSON a MISP loads)."


def exported_chunks(
    node: Node, party: Party, fmt: str, *, preview: bool, tally: export_service.Tally
) -> Iterable[bytes]:
    """The bytes of an export (or a preview) of what ``party`` receives, in ``fmt``."""
    if fmt == "misp":
        # MISP events are built whole by misp-stix: this format is not streamed.
        return [misp_service.misp_json(node, party, preview=preview, tally=tally)]
    if fmt == "bundle":
        return export_service.bundle_chunks(node, party, preview=preview, tally=tally)
    return export_service.ndjson_chunks(node, party, preview=preview, tally=tally)


def write_chunks(chunks: Iterable[bytes], out: Path | None) -> None:
    """Write to ``out`` whole or not at all (through a .part file), or to stdout."""
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


@click.command("export")
@click.option("--to", "recipient", required=True, help="The party (name or id) to release to.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
@click.option(
    "--format", "fmt", type=FORMATS, default="bundle", show_default=True, help=FORMAT_HELP
)
@pass_env
def export_command(env: Env, recipient: str, out: Path | None, fmt: str) -> None:
    """Release to PARTY: write what it receives, through the policy gate, to hand it over.

    An export is a release: each object travels with its seal and is written to the ledger
    (its originator can see where it went), and the command says how many objects went and
    which ledger entries record them. To look without releasing anything, use
    `kizuna preview --to PARTY [--out FILE]`.
    """
    node = env.node()
    party = party_service.find(node, recipient)
    since = ledger_service.newest_seq(node)
    tally = export_service.Tally()
    write_chunks(exported_chunks(node, party, fmt, preview=False, tally=tally), out)
    where = f" to {out}" if out else ""
    if party.id == node.home_party.id:
        env.err.print(
            f"wrote {tally.objects} objects for {party.name}{where}; nothing recorded in the"
            " ledger: the home party sees everything its node holds"
        )
        return
    span = ledger_service.span_since(node, party, since)
    name = escape(party.name)
    if span.entries:
        ledger = f"ledger entries {span.first}\N{EN DASH}{span.last}"
    elif tally.objects:
        ledger = "every one already in the ledger from an earlier release"
    else:
        ledger = f"none: the gate releases nothing to it (`kizuna preview --to {name}` says why)"
    env.err.print(
        f"released {tally.objects} objects to {name}{where}, {ledger}",
        soft_wrap=True,
    )


@click.group("csaf")
def csaf_group() -> None:
    """CSAF 2.0 documents this node imported (`kizuna import` reads them; docs/csaf.md)."""


@csaf_group.command("show")
@click.argument("key")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
@pass_env
def csaf_show(env: Env, key: str, out: Path | None) -> None:
    """Write back the CSAF document KEY (its tracking id or its note's id) exactly as imported."""
    text = csaf_import.stored_document(env.node(), key).encode()
    write_chunks([text], out)


COMMANDS = [import_command, export_command, csaf_group]
