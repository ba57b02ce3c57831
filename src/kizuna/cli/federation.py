"""Federation commands: peers, sync, consent requests."""

from __future__ import annotations

import asyncio

import click
from rich.table import Table

from kizuna.cli.context import Env
from kizuna.cli.listing import emit, json_option
from kizuna.cli.trust import consent
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services import federation_messages
from kizuna.services import parties as party_service
from kizuna.services import peers as peer_service
from kizuna.services import sync as sync_service

pass_env = click.make_pass_decorator(Env)


@click.group()
def peer() -> None:
    """Peers: other kizuna nodes this node syncs with over TAXII 2.1."""


@peer.command("add")
@click.argument("url")
@click.option("--party", required=True, help="The party that runs the peer (name or id).")
@click.option(
    "--token",
    required=True,
    envvar="KIZUNA_PEER_TOKEN",
    help="The token the peer issued to this node.",
)
@click.option("--push", is_flag=True, help="Also post what we release to the peer to its inbox.")
@pass_env
def peer_add(env: Env, url: str, party: str, token: str, push: bool) -> None:
    """Add the peer at URL. Its token is stored encrypted with this node's key."""
    record = peer_service.add(env.node(), url, party, token, push=push)
    click.echo(record.id)


@peer.command("list")
@json_option
@pass_env
def peer_list(env: Env, as_json: bool) -> None:
    """List peers with their sync state and last error."""
    node = env.node()
    records = [(r, party_service.find(node, r.party_id).name) for r in peer_service.all_peers(node)]
    if as_json:
        fields = ("id", "party", "url", "push", "cursor", "pulled", "pushed", "last_ok",
                  "last_error", "failures")  # fmt: skip
        rows: list[tuple[object, ...]] = [
            (
                r.id,
                name,
                r.url,
                bool(r.push),
                format_timestamp(r.cursor) if r.cursor else None,
                r.pulled,
                r.pushed,
                format_timestamp(r.last_ok_us) if r.last_ok_us else None,
                r.last_error,
                r.failures,
            )
            for r, name in records
        ]
        emit(env, fields, rows, as_json=True)
        return
    columns = ("party", "url", "push", "cursor", "pulled", "pushed", "last ok", "last error")
    rows = [
        (
            name,
            r.url,
            "yes" if r.push else "no",
            format_timestamp(r.cursor) if r.cursor else "-",
            r.pulled,
            r.pushed,
            format_timestamp(r.last_ok_us) if r.last_ok_us else "never",
            (r.last_error or "") + (f" ({r.failures}x)" if r.failures else ""),
        )
        for r, name in records
    ]
    emit(env, columns, rows, as_json=False)


@peer.command("remove")
@click.argument("peer_ref", metavar="PEER")
@pass_env
def peer_remove(env: Env, peer_ref: str) -> None:
    """Remove a peer (by id, URL or party name)."""
    record = peer_service.remove(env.node(), peer_ref)
    click.echo(f"removed {record.url}")


@click.command()
@click.option("--peer", "only", help="Sync only this peer (id, URL or party name).")
@click.option(
    "--timeout", default=30.0, show_default=True, help="Seconds to wait for a peer's answer."
)
@pass_env
def sync(env: Env, only: str | None, timeout: float) -> None:
    """Pull from every peer once (and push where configured); exit 1 if any peer failed."""
    node = env.node()
    counts: dict[str, int] = {}

    def progress(peer_name: str, n: int) -> None:
        counts[peer_name] = counts.get(peer_name, 0) + n
        env.err.print(f"  {peer_name}: {counts[peer_name]} objects pulled", end="\r")

    results = asyncio.run(
        sync_service.sync_all(node, progress=progress, timeout=timeout, only=only)
    )
    failed = False
    for r in results:
        if r.error:
            failed = True
            env.console.print(f"[red]{r.peer}[/]: {r.error}")
        else:
            env.console.print(
                f"[green]{r.peer}[/]: {r.pulled} pulled, {r.stored} new, "
                f"{r.quarantined} quarantined, {r.pushed} pushed, "
                f"{r.agreements} agreement copies"
            )
            if r.replaced:
                env.console.print(
                    f"[yellow]{r.peer}[/]: its sealed copies replaced {r.replaced} quarantined "
                    "ones, set aside (`kizuna audit set-aside` lists them)"
                )
    if failed:
        raise SystemExit(1)


@click.command()
@click.argument("object_ids", nargs=-1, required=True)
@click.option("--to", "recipient", required=True, help="The party you want to release them to.")
@click.option("--reason", default="", help="Why, in a sentence for the originator.")
@pass_env
def request_consent(env: Env, object_ids: tuple[str, ...], recipient: str, reason: str) -> None:
    """Ask the originator of OBJECT_IDS for consent to release them onward to a party."""
    request = federation_messages.request_consent(env.node(), list(object_ids), recipient, reason)
    click.echo(request["id"])


@click.command()
@pass_env
def consent_requests(env: Env) -> None:
    """List consent requests: the ones other holders sent us, and ours."""
    node = env.node()
    names = {p.id: p.name for p in party_service.all_parties(node)}
    table = Table("id", "from", "to originator", "objects", "for", "reason")
    for r in federation_messages.consent_requests(node):
        table.add_row(
            r["id"],
            names.get(r["created_by_ref"], r["created_by_ref"]),
            names.get(r["originator_ref"], r["originator_ref"]),
            ", ".join(r["object_refs"]),
            names.get(r["recipient_ref"], r["recipient_ref"]),
            r.get("reason", ""),
        )
    env.console.print(table)


consent.add_command(request_consent, "request")
consent.add_command(consent_requests, "requests")

COMMANDS = [peer, sync]
