"""``kizuna user``: the people who use this node's console and personal API tokens."""

from __future__ import annotations

import getpass
import os
import sys

import click
from rich.table import Table

from kizuna.cli.context import Env
from kizuna.core.people import ROLES
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services import parties as party_service
from kizuna.services import users as user_service

pass_env = click.make_pass_decorator(Env)
_ROLE = click.Choice(ROLES)


def _password_from(stdin: bool) -> str | None:
    if not stdin:
        return None
    line = sys.stdin.readline()
    return line.rstrip("\n")


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:{os.getuid()}"


@click.group()
def user() -> None:
    """People: console accounts (analyst, publisher, admin, auditor) and personal tokens."""


@user.command("add")
@click.argument("name")
@click.option("--party", help="The party the user belongs to (default: the home party).")
@click.option(
    "--role", "roles", multiple=True, type=_ROLE, help="A role; repeatable.  [default: analyst]"
)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_env
def user_add(
    env: Env, name: str, party: str | None, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a user. Prints a generated password unless one comes from stdin."""
    node = env.node()
    created, password = user_service.add(
        node,
        name,
        party=party,
        roles=roles or ("analyst",),
        password=_password_from(password_stdin),
    )
    user_service.record(node, created.party_id, _cli_actor(), "cli", f"user add {name}", 0)
    if not password_stdin:
        click.echo(password)
    env.err.print(
        f"user {created.name} ({', '.join(created.roles)}) of "
        f"{party_service.find(node, created.party_id).name}"
        + ("" if password_stdin else ": the password above is shown once, stored as Argon2id")
    )


@user.command("list")
@pass_env
def user_list(env: Env) -> None:
    """List users (never passwords)."""
    node = env.node()
    names = {p.id: p.name for p in party_service.all_parties(node)}
    table = Table("name", "party", "roles", "state", "created", "last visit")
    for u in user_service.list_users(node):
        table.add_row(
            u.name,
            names.get(u.party_id, u.party_id),
            ", ".join(u.roles),
            "disabled" if u.disabled else "active",
            format_timestamp(u.created_us),
            format_timestamp(u.last_visit_us) if u.last_visit_us else "-",
        )
    env.console.print(table)


@user.command("role")
@click.argument("name")
@click.argument("roles", nargs=-1, required=True, type=_ROLE)
@pass_env
def user_role(env: Env, name: str, roles: tuple[str, ...]) -> None:
    """Set a user's roles (replacing the ones it had)."""
    node = env.node()
    u = user_service.set_roles(node, name, roles)
    user_service.record(
        node, u.party_id, _cli_actor(), "cli", f"user role {name} {' '.join(roles)}", 0
    )
    click.echo(f"{u.name}: {', '.join(u.roles)}")


@user.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@pass_env
def user_disable(env: Env, name: str, enable: bool) -> None:
    """Disable a user: its sessions end at once and its personal tokens stop working."""
    node = env.node()
    u = user_service.disable(node, name, not enable)
    verb = "enable" if enable else "disable"
    user_service.record(node, u.party_id, _cli_actor(), "cli", f"user {verb} {name}", 0)
    click.echo(f"{u.name}: {'disabled' if u.disabled else 'active'}")


@user.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@pass_env
def user_reset_password(env: Env, name: str, password_stdin: bool) -> None:
    """Set a new password (printed, unless from stdin); every session of the user ends."""
    node = env.node()
    password = user_service.reset_password(node, name, _password_from(password_stdin))
    u = user_service.get(node, name)
    user_service.record(node, u.party_id, _cli_actor(), "cli", f"user reset-password {name}", 0)
    if not password_stdin:
        click.echo(password)


@user.command("token")
@click.argument("name")
@click.option("--label", default="personal", show_default=True, help="A label for the token.")
@pass_env
def user_token(env: Env, name: str, label: str) -> None:
    """Issue a personal API token for a user (acts as its party; writes are recorded as it)."""
    node = env.node()
    new = user_service.create_token(node, name, label)
    u = user_service.get(node, name)
    user_service.record(node, u.party_id, _cli_actor(), "cli", f"user token {name}", 0)
    click.echo(new.value)
    env.err.print(f"token {new.id} for {name} ({new.party.name}): shown once, stored hashed.")


@user.command("logout")
@click.argument("name")
@pass_env
def user_logout(env: Env, name: str) -> None:
    """End every console session of a user."""
    click.echo(f"{user_service.revoke_sessions(env.node(), name)} sessions ended")


COMMANDS = [user]
