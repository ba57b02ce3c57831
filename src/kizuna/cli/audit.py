"""``kizuna audit``: where objects went, proof the ledger was not altered or cut off."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from kizuna.cli.context import Env
from kizuna.cli.listing import emit, json_option
from kizuna.core.ledger import Checkpoint, Problem
from kizuna.core.ledger_heads import HEADS_FILE, head_dict, parse_head
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import InvalidInput
from kizuna.services import ledger as ledger_service
from kizuna.services import ledger_peers, sealing
from kizuna.services import parties as party_service
from kizuna.services import users as user_service

pass_env = click.make_pass_decorator(Env)


@click.group()
def audit() -> None:
    """The ledger: where objects went, and proof it was not altered or cut off."""


def _heads_in(path: Path) -> list[Checkpoint]:
    """Heads from a file: one head, a list of heads, or what `kizuna audit peers --json` wrote."""
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read heads from {path}: {exc}") from exc
    items = document if isinstance(document, list) else [document]
    heads: list[Checkpoint] = []
    for n, item in enumerate(items, start=1):
        raw = item.get("head") if isinstance(item, dict) and "head" in item else item
        try:
            heads.append(parse_head(raw))
        except ValueError as exc:
            raise InvalidInput(f"{path}: head {n}: {exc}") from exc
    return heads


def vouch_line(audit: ledger_service.Audit) -> str:
    """How far the ledger can be vouched for against truncation, in one sentence."""
    head, later = audit.vouched.head, audit.vouched.unvouched
    if head is None:
        if audit.entries == 0:
            return "ledger intact: no entries yet"
        return (
            f"ledger intact as far as it goes, but no signed head in {HEADS_FILE} vouches for it:"
            f" its {audit.entries} entries cannot be vouched for against truncation"
            " (`kizuna audit checkpoint` signs the head now)"
        )
    line = (
        f"ledger intact up to entry {head.seq}, checkpoint signed at"
        f" {format_timestamp(head.time_us)}; "
    )
    if later == 0:
        return line + "no entries after it"
    return (
        line + f"entries after the last checkpoint ({later} of them) cannot be vouched for"
        " against truncation"
    )


@audit.command("verify")
@click.option(
    "--head",
    "head_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also check heads this node signed that a peer kept (JSON, e.g. from `audit peers`).",
)
@pass_env
def audit_verify(env: Env, head_files: tuple[Path, ...]) -> None:
    """Check the ledger's chain, its signed checkpoints, and the chain against the heads
    kept outside the database; say how far back it can vouch. Exit 1 on any problem."""
    node = env.node()
    result = ledger_service.verify(node)
    problems = list(result.problems)
    checked = 0
    for path in head_files:
        for head in _heads_in(path):
            checked += 1
            found = ledger_peers.check_our_head(node, head)
            if found is not None:
                problems.append(Problem(found.seq, f"{path}: {found.message}"))
    if not problems:
        click.echo(vouch_line(result))
        click.echo(
            f"{result.entries} entries, {result.checkpoints} signed checkpoints,"
            f" {result.vouched.heads} heads in {HEADS_FILE}"
            + (f"; {checked} heads peers kept are in the chain" if head_files else "")
        )
        return
    for p in problems:
        where = f"entry {p.seq}: " if p.seq > 0 else ""
        click.secho(f"{where}{p.message}", fg="red", err=True)
    sys.exit(1)


@audit.command("show")
@click.option("--object", "object_id", help="Only releases of this object (or derivative).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1), help="Per page.")
@click.option("--after", default=0, type=click.IntRange(0), help="The page after this entry.")
@json_option
@pass_env
def audit_show(env: Env, object_id: str | None, limit: int, after: int, as_json: bool) -> None:
    """Show ledger entries, a page at a time: where did my object go?

    The next page: --after with the last entry's number (printed on stderr when there is one).
    """
    node = env.node()
    names = {p.id: p.name for p in party_service.all_parties(node)}
    page = ledger_service.show(node, object_id, after, limit + 1)
    more, page = len(page) > limit, page[:limit]
    rows = [
        (
            e.seq,
            format_timestamp(e.time_us),
            e.object_id,
            format_timestamp(e.object_modified),
            names.get(e.recipient, e.recipient),
            e.released_id if e.released_id != e.object_id else None,
            e.agreement,
            e.rules,
        )
        for e in page
    ]
    columns = ("seq", "time", "object", "version", "to", "released_as", "agreement", "rules")
    emit(env, columns, rows, as_json=as_json)
    if more:
        env.err.print(f"more: kizuna audit show --after {page[-1].seq}", soft_wrap=True)


@audit.command("set-aside")
@click.option("--object", "object_id", help="Only copies of this object.")
@pass_env
def audit_set_aside(env: Env, object_id: str | None) -> None:
    """Quarantined copies (tampered on the way, say) that the sealed, genuine copy of the same
    version replaced: kept here for you, never released."""
    node = env.node()
    names = {p.id: p.name for p in party_service.all_parties(node)}
    table = Table("time", "object", "version", "came from", "why quarantined", "replaced by")
    for c in sealing.set_aside(node, object_id):
        table.add_row(
            format_timestamp(c.set_aside_us),
            c.id,
            format_timestamp(c.modified),
            names.get(c.submitted_by, c.submitted_by),
            c.reason,
            names.get(c.replaced_by, c.replaced_by),
        )
    env.console.print(table)


@audit.command("actions")
@click.option("--user", "user_name", help="Only what this person did.")
@click.option("--limit", default=100, show_default=True, help="How many, newest first.")
@pass_env
def audit_actions(env: Env, user_name: str | None, limit: int) -> None:
    """Who did what: every write, with its party and (when a person acted) the person."""
    node = env.node()
    names = {p.id: p.name for p in party_service.all_parties(node)}
    table = Table("#", "time", "party", "person", "via", "action", "status")
    for a in user_service.actions(node, limit, user_name):
        table.add_row(
            str(a.seq),
            format_timestamp(a.time_us),
            names.get(a.party_id, a.party_id),
            a.user_name or "-",
            a.via,
            a.action,
            str(a.outcome) if a.outcome else "ok",
        )
    env.console.print(table)


@audit.command("checkpoint")
@pass_env
def audit_checkpoint(env: Env) -> None:
    """Sign the ledger's current head now (kept in the database and in ledger-heads)."""
    cp = ledger_service.checkpoint(env.node())
    click.echo(f"checkpoint at entry {cp.seq}" if cp else "nothing new to checkpoint")


@audit.command("peers")
@click.option("--party", help="Only the heads this holder (name or id) sent.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for `audit verify --head`).")
@pass_env
def audit_peers(env: Env, party: str | None, as_json: bool) -> None:
    """Ledger heads holders sent with their receipts: how far each holder's ledger reached.

    Each head is the holder's signature over its ledger at an entry; the holder can check one
    against its chain with `kizuna audit verify --head FILE`. Exit 1 when a head fails.
    """
    node = env.node()
    only = party_service.find(node, party).id if party else None
    found = [h for h in ledger_peers.heads_from_holders(node) if only in (None, h.holder)]
    names = {p.id: p.name for p in party_service.all_parties(node)}
    if as_json:
        document: list[dict[str, Any]] = [
            {
                "holder": h.holder,
                "holder_name": names.get(h.holder, h.holder),
                "head": head_dict(h.head) if h.head else None,
                "receipts": h.receipts,
                "problems": list(h.problems),
            }
            for h in found
            if h.head is not None
        ]
        sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        table = Table("holder", "reached entry", "signed at", "hash", "receipts")
        for h in found:
            table.add_row(
                names.get(h.holder, h.holder),
                str(h.head.seq) if h.head else "-",
                format_timestamp(h.head.time_us) if h.head else "-",
                h.head.hash if h.head else "-",
                str(h.receipts),
            )
        env.console.print(table)
    failed = [f"{names.get(h.holder, h.holder)}: {p}" for h in found for p in h.problems]
    for line in failed:
        click.secho(line, fg="red", err=True)
    if failed:
        sys.exit(1)


COMMANDS = [audit]
