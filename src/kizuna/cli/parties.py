"""Party and token commands."""

from __future__ import annotations

import click

from kizuna.cli.context import Env
from kizuna.cli.listing import emit, json_option
from kizuna.core.parties import KINDS
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services import parties as party_service
from kizuna.services import tokens as token_service

pass_env = click.make_pass_decorator(Env)


@click.group()
def party() -> None:
    """Parties: the member organisations this node shares with."""


@party.command("add")
@click.argument("name")
@click.option("--jurisdiction", required=True, help="ISO 3166 alpha-2 code, or EU.")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What kind of party it is.")
@click.option("--scheme", help="Its classification scheme (EU, DE, JP, ...), if it holds any.")
@click.option("--sector", help="Its sector.")
@click.option("--id", "party_id", help="Its identity id, if it has one already (identity--<uuid>).")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    help="Its Ed25519 public key (base64url); repeatable.",
)
@click.option(
    "--client", is_flag=True, help="It is a client (constituent) of the home party (TLP:AMBER)."
)
@pass_env
def party_add(
    env: Env,
    name: str,
    jurisdiction: str,
    kind: str,
    scheme: str | None,
    sector: str | None,
    party_id: str | None,
    public_keys: tuple[str, ...],
    client: bool,
) -> None:
    """Register a party. Prints its id."""
    p = party_service.add_party(
        env.node(),
        name,
        jurisdiction=jurisdiction,
        kind=kind,
        scheme=scheme,
        sector=sector,
        party_id=party_id,
        public_keys=public_keys,
        client=client,
    )
    click.echo(p.id)


@party.command("list")
@json_option
@pass_env
def party_list(env: Env, as_json: bool) -> None:
    """List the parties this node knows."""
    rows = []
    for p in party_service.all_parties(env.node()):
        role = "home" if p.is_home else ("client" if p.is_client else "")
        rows.append((p.name, p.id, p.jurisdiction, p.kind, p.scheme, role, len(p.public_keys)))
    columns = ("name", "id", "jurisdiction", "kind", "scheme", "role", "keys")
    emit(env, columns, rows, as_json=as_json)


@party.command("update")
@click.argument("name_or_id")
@click.option(
    "--client/--no-client", default=None, help="Whether it is a client of the home party."
)
@click.option("--sector", help="Its sector.")
@click.option("--scheme", help="Its classification scheme ('' for none).")
@click.option("--add-key", "add_keys", multiple=True, help="Add an Ed25519 public key (base64url).")
@click.option(
    "--retire-key",
    "retire_keys",
    multiple=True,
    help="Retire a key by its key id: trusted for nothing new (what it signed before still"
    " verifies in backups and the ledger).",
)
@pass_env
def party_update(
    env: Env,
    name_or_id: str,
    client: bool | None,
    sector: str | None,
    scheme: str | None,
    add_keys: tuple[str, ...],
    retire_keys: tuple[str, ...],
) -> None:
    """Change a party: client status, sector, classification scheme, public keys."""
    p = party_service.update_party(
        env.node(),
        name_or_id,
        client=client,
        sector=sector,
        scheme=scheme,
        add_keys=add_keys,
        retire_keys=retire_keys,
    )
    role = "client" if p.is_client else "not a client"
    click.echo(f"{p.name} ({p.id}): {role}, scheme {p.scheme or '-'}, {len(p.public_keys)} keys")


@click.group()
def token() -> None:
    """API tokens: how parties authenticate to this node."""


@token.command("create")
@click.argument("party_name_or_id", metavar="[PARTY]", required=False)
@click.option("--name", default=None, help="A label for the token.  [default: default]")
@click.option(
    "--monitoring",
    is_flag=True,
    help="A token that may read /metrics and nothing else (for a Prometheus scraper).",
)
@pass_env
def token_create(
    env: Env, party_name_or_id: str | None, name: str | None, monitoring: bool
) -> None:
    """Issue a token for PARTY (or, with --monitoring, for reading /metrics) and print it.
    It is shown only this once."""
    if monitoring == (party_name_or_id is not None):
        raise click.UsageError("give a PARTY, or --monitoring (a monitoring token has no party)")
    if monitoring:
        new = token_service.create_monitoring(env.node(), name or "monitoring")
        click.echo(new.value)
        env.err.print(
            f"monitoring token {new.id}: shown once, stored hashed. It reads /metrics only: "
            "`Authorization: Bearer TOKEN` (Prometheus: authorization.credentials_file)."
        )
        return
    assert party_name_or_id is not None
    new = token_service.create(env.node(), party_name_or_id, name or "default")
    click.echo(new.value)
    env.err.print(
        f"token {new.id} for {new.party.name}: shown once, stored hashed. "
        f"Use it as HTTP Basic password (user {new.party.name!r}) or as a Bearer token."
    )


@token.command("revoke")
@click.argument("token_id")
@pass_env
def token_revoke(env: Env, token_id: str) -> None:
    """Revoke a token (by its id, or the whole token)."""
    record = token_service.revoke(env.node(), token_id)
    click.echo(f"revoked token {record.id}")


@token.command("list")
@click.argument("party_name_or_id", metavar="[PARTY]", required=False)
@json_option
@pass_env
def token_list(env: Env, party_name_or_id: str | None, as_json: bool) -> None:
    """List tokens (ids and labels, never secrets)."""
    node = env.node()
    names = {p.id: p.name for p in party_service.all_parties(node)}
    rows = []
    for r in token_service.list_tokens(node, party_name_or_id):
        revoked = format_timestamp(r.revoked_us) if r.revoked_us else None
        party = names.get(r.party_id, r.party_id)
        created = format_timestamp(r.created_us)
        rows.append((r.id, party, r.scope, r.name, created, revoked))
    columns = ("id", "party", "scope", "label", "created", "revoked")
    emit(env, columns, rows, as_json=as_json)


COMMANDS = [party, token]
