"""Node commands: init, serve, quickstart, db, settings."""

from __future__ import annotations

import errno
import signal
import socket
from importlib import resources
from pathlib import Path

import click

from kizuna.cli.context import Env
from kizuna.core import settings as core_settings
from kizuna.core.parties import KINDS
from kizuna.errors import InvalidInput, NodeNotInitialised
from kizuna.services import importer, parties, tokens, users
from kizuna.services import node as node_service
from kizuna.storage import migrate
from kizuna.storage.database import redact_url

pass_env = click.make_pass_decorator(Env)


@click.command()
@click.option("--party-name", required=True, help="Name of the party that runs this node.")
@click.option("--jurisdiction", required=True, help="ISO 3166 alpha-2 code, or EU.")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What kind of party it is.")
@click.option("--scheme", help="Its classification scheme (EU, DE, JP, ...), if it holds any.")
@click.option("--sector", help="Its sector, e.g. government-national or financial-services.")
@click.option("--party-id", help="Use this identity id instead of a new one (identity--<uuid>).")
@pass_env
def init(
    env: Env,
    party_name: str,
    jurisdiction: str,
    kind: str,
    scheme: str | None,
    sector: str | None,
    party_id: str | None,
) -> None:
    """Create a node: its home party, its Ed25519 key and its database.

    Prints the home party's id.
    """
    node = node_service.init_node(
        env.home,
        party_name=party_name,
        jurisdiction=jurisdiction,
        kind=kind,
        scheme=scheme,
        sector=sector,
        party_id=party_id,
        database_url=env.database_url,
    )
    env.adopt(node)
    click.echo(node.home_party.id)
    where = redact_url(env.database_url) if env.database_url else str(env.home / "kizuna.db")
    env.err.print(f"[green]node created[/] in {env.home} (database: {where})")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8470, show_default=True, type=int, help="Port to listen on.")
@click.option("--log-level", default="info", show_default=True, help="debug, info, warning, error.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes serving the node from one socket (PostgreSQL or SQLite; see docs/scaling.md).",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve HTTPS with this certificate chain (PEM); needs --tls-key.",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The certificate's private key (PEM).",
)
@pass_env
def serve(
    env: Env,
    host: str,
    port: int,
    log_level: str,
    workers: int,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve TAXII 2.1 and the JSON API until Ctrl-C or SIGTERM.

    TAXII discovery is at /taxii2/, the API root at /taxii2/root/, the JSON API's OpenAPI
    description at /api/openapi.json, metrics at /metrics. Shutdown finishes the requests in
    flight; every acknowledged write is already committed. With --workers N, N processes serve
    the same node as one (as do several `kizuna serve` sharing one PostgreSQL database).
    """
    if (tls_cert is None) != (tls_key is None):
        raise InvalidInput("--tls-cert and --tls-key go together: give both, or neither")
    tls = (tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
    if workers == 1:
        run_server(env, host, port, log_level, tls)
    else:
        run_workers(env, host, port, log_level, workers, tls)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything says "serving": a busy port is one error."""
    from kizuna.cli import workers as supervisor

    try:
        return supervisor.bind(host, port)
    except OSError as exc:
        why = "the address is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise InvalidInput(
            f"cannot listen on {host}:{port}: {why} (another kizuna serve? choose --port)"
        ) from None


def _tls_options(tls: tuple[Path, Path] | None) -> dict[str, str]:
    if tls is None:
        return {}
    return {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}


def run_workers(
    env: Env, host: str, port: int, log_level: str, workers: int, tls: tuple[Path, Path] | None
) -> None:
    from kizuna import logs
    from kizuna.cli import workers as supervisor

    logs.configure(log_level)
    node = env.node()  # brings the schema up to date once, before any worker opens it
    name = node.home_party.name
    env.close()
    sock = _listen(host, port)
    scheme = "https" if tls else "http"
    env.err.print(
        f"kizuna serving [bold]{name}[/] on {scheme}://{host}:{port}/ ({workers} workers)"
    )
    supervisor.supervise(env.home, env.database_url, sock, workers, log_level, tls)
    env.err.print("stopped")


def run_server(
    env: Env, host: str, port: int, log_level: str, tls: tuple[Path, Path] | None = None
) -> None:
    import uvicorn

    from kizuna import logs
    from kizuna.http import server
    from kizuna.http.app import create_app

    logs.configure(log_level)
    node = env.node()
    app = create_app(node)
    sock = _listen(host, port)
    scheme = "https" if tls else "http"
    env.err.print(f"kizuna serving [bold]{node.home_party.name}[/] on {scheme}://{host}:{port}/")
    env.err.print(f"  TAXII discovery  {scheme}://{host}:{port}/taxii2/")
    env.err.print(f"  JSON API         {scheme}://{host}:{port}/api/docs")
    # uvicorn finishes the requests in flight on SIGTERM, then raises the signal again under the
    # handler it found; this one makes that a clean exit (status 0) instead of death by signal.
    # Ctrl-C is re-raised the same way, as KeyboardInterrupt: also a clean stop, not "Aborted!".
    previous = signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        settings = server.config(
            app,
            node.settings(),
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=10,
            **_tls_options(tls),
        )
        uvicorn.Server(settings).run(sockets=[sock])
    except KeyboardInterrupt:
        env.err.print("stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8470, show_default=True, type=int, help="Port to listen on.")
@pass_env
def quickstart(env: Env, host: str, port: int) -> None:
    """Create a node with example data if there is none, issue a token, and serve it.

    Prints the address and a fresh token to connect with (older quickstart tokens are revoked).
    """
    if not (env.home / node_service.KEY_FILE).exists():
        node = node_service.init_node(
            env.home,
            party_name="Quickstart CSIRT",
            jurisdiction="EU",
            kind="csirt",
            scheme="EU",
            database_url=env.database_url,
        )
        env.adopt(node)
        parties.add_party(
            node, "Example Partner CERT", jurisdiction="DE", kind="csirt", scheme="DE"
        )
        examples = resources.files("kizuna") / "data" / "examples"
        with resources.as_file(examples) as folder:
            report = importer.import_paths(node, [Path(folder)])
        env.err.print(f"[green]node created[/] in {env.home} with {report.stored} example objects")
    node = env.node()
    for record in tokens.list_tokens(node, node.home_party.id):
        if record.name == "quickstart" and record.revoked_us is None:
            tokens.revoke(node, record.id)
    token = tokens.create(node, node.home_party.id, "quickstart")
    base = f"http://{host}:{port}"
    env.console.print(
        f"\n[bold]kizuna[/] node [bold]{node.home_party.name}[/] at {base}/", soft_wrap=True
    )
    env.console.print(f"  token (shown once): [bold]{token.value}[/]", soft_wrap=True)
    env.console.print(
        f"  TAXII:  {base}/taxii2/   (HTTP Basic: {node.home_party.name!r} + token, or Bearer)",
        soft_wrap=True,
    )
    env.console.print(f"  API:    {base}/api/docs", soft_wrap=True)
    password = users.first_login(node)
    env.console.print(
        f"  console: {base}/   user [bold]admin[/]  password [bold]{password}[/] (shown once)",
        soft_wrap=True,
    )
    env.console.print(
        f"  try:    curl -H 'Authorization: Bearer {token.value}' "
        f"-H 'Accept: application/taxii+json;version=2.1' {base}/taxii2/root/collections/\n",
        soft_wrap=True,
    )
    run_server(env, host, port, "info")


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_env
def db_upgrade(env: Env) -> None:
    """Bring the database schema up to date (safe to run again)."""
    from kizuna.storage.database import Database

    url = node_service.database_url_for(env.home, env.database_url)
    if env.database_url is None and not (env.home / "kizuna.db").exists():
        raise NodeNotInitialised(f"no database in {env.home}; run `kizuna init` first")
    database = Database(url)
    try:
        before, after = migrate.upgrade(database)
    finally:
        database.dispose()
    if before == after:
        click.echo(f"schema already at {after}")
    else:
        click.echo(f"schema upgraded from {before or 'empty'} to {after}")


@click.command("settings")
@click.argument("name", required=False)
@click.argument("value", required=False)
@click.option("--reset", is_flag=True, help="Go back to the default for NAME.")
@pass_env
def settings_command(env: Env, name: str | None, value: str | None, reset: bool) -> None:
    """Show the node's settings, or show, set or --reset one.

    \b
    kizuna settings                      list every setting
    kizuna settings default_tlp          show one
    kizuna settings default_tlp red      set it
    kizuna settings default_tlp --reset  back to the default
    """
    node = env.node()
    if name is None:
        effective = node.settings()
        for s in core_settings.SETTINGS:
            click.echo(f"{s.name} = {effective[s.name]}  (default {s.default}) - {s.help}")
        return
    if reset:
        click.echo(f"{name} = {node.set_setting(name, None)}")
    elif value is not None:
        click.echo(f"{name} = {node.set_setting(name, value)}")
    else:
        if name not in core_settings.BY_NAME:
            known = ", ".join(core_settings.BY_NAME)
            raise InvalidInput(f"there is no setting {name!r}; settings are: {known}")
        click.echo(f"{name} = {node.settings()[name]}")


@click.group("node")
def node_group() -> None:
    """This node: its party and keys."""


@node_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--public-key", "key_only", is_flag=True, help="Print only the public key.")
@pass_env
def node_show(env: Env, as_json: bool, key_only: bool) -> None:
    """Show the home party, the public key the node signs with and its fingerprint, and every
    key of the home party (older ones verify what they signed)."""
    import orjson

    from kizuna.services import keys

    node = env.node()
    party = node.home_party
    listed = keys.keys_of(node, party)
    current = next(k for k in listed if k.signing)
    if key_only:
        click.echo(current.public_key)
        return
    if as_json:
        click.echo(
            orjson.dumps(
                {
                    "party": party.id,
                    "name": party.name,
                    "jurisdiction": party.jurisdiction,
                    "public_key": current.public_key,
                    "key_id": current.key_id,
                    "fingerprint": current.fingerprint,
                    "keys": [k.to_json() for k in listed],
                },
                option=orjson.OPT_INDENT_2,
            )
        )
        return
    click.echo(f"party        {party.name} ({party.jurisdiction})")
    click.echo(f"id           {party.id}")
    click.echo(f"public key   {current.public_key}")
    click.echo(f"key id       {current.key_id}")
    click.echo(f"fingerprint  {current.fingerprint}")
    for k in listed:
        state = "signing" if k.signing else "verifies what it signed"
        click.echo(f"key          {k.key_id}  added {k.added or '-'}  {state}")


@click.command("backup")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@pass_env
def backup_command(env: Env, target: Path) -> None:
    """Back up the node into the new folder TARGET (while it serves).

    TARGET gets the database (SQLite's online backup, or pg_dump's custom format for
    PostgreSQL), the node's private key, its ledger-heads file and a manifest of their SHA-256
    digests. It holds the key: keep it as safe as the node folder. `kizuna restore` reads it.
    """
    from kizuna.services import backup

    manifest = backup.backup(env.node(), target)
    for name, digest in manifest.files.items():
        click.echo(f"{name}  sha256:{digest}")
    env.err.print(
        f"[green]backed up[/] {manifest.party_name} (schema {manifest.schema}) into {target}",
        soft_wrap=True,
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_env
def restore_command(env: Env, source: Path) -> None:
    """Restore the backup in SOURCE as the node in --home (a new folder).

    The backup is loaded aside, its schema brought up to date, its ledger (chain, signed
    checkpoints, ledger-heads) and every stored seal verified; only then does it become the
    node. A backup that does not verify is refused and nothing of it is kept (exit 1). For a
    PostgreSQL backup, --database-url names the empty database to load it into.
    """
    from kizuna.services import backup

    done = backup.restore(source, env.home, env.database_url)
    click.echo(
        f"restored {done.manifest.party_name} into {env.home}: ledger of {done.entries} entries"
        f" and {done.checkpoints} signed checkpoints verified, {done.seals} seals verified"
    )


COMMANDS = [
    init,
    serve,
    quickstart,
    db,
    settings_command,
    backup_command,
    restore_command,
    node_group,
]
