"""``kizuna match``: check observables against every indicator this node holds."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.table import Table

from kizuna.cli.context import Env
from kizuna.services import correlation
from kizuna.services.importer import objects_of

pass_env = click.make_pass_decorator(Env)


@click.command()
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option("--no-sightings", is_flag=True, help="Only report matches; record no sightings.")
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@pass_env
def match(env: Env, file: Path, no_sightings: bool, as_json: bool) -> None:
    """Match FILE against every indicator held: a STIX bundle of observed-data and SCOs, or a
    plain list of values, one per line (IPs, domains, URLs, e-mail addresses, hashes, and MISP's
    domain|ip, ip|port and filename|hash).

    Each value of a list is matched on its own, in the roles it may have had: an address as
    a source or destination of traffic (MISP ip-src, ip-dst), an e-mail address as sender or
    recipient (email-src, email-dst). Each match names its value and its indicator.

    Each match records (or updates) this node's sighting of the indicator, which goes back to
    the indicator's originator through the policy gate. Values on the configured MISP warning
    lists (`kizuna settings warninglists FOLDER`) are flagged as likely benign, never dropped.
    Exits 1 when nothing matched.
    """
    node = env.node()
    raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        document = None
    bad: list[tuple[str, str]] = []
    if document is not None and not isinstance(document, str | int | float):
        objects = [o for o in objects_of(document, str(file)) if isinstance(o, dict)]
        if any(o.get("type") == "observed-data" for o in objects):
            matches = correlation.match_objects(node, objects, sight=not no_sightings)
        else:  # bare SCOs: observed together, now
            values = [v for o in objects for v in _values(o)]
            matches, bad = correlation.match_values(node, values, sight=not no_sightings)
    else:
        values = raw.decode("utf-8", errors="replace").splitlines()
        matches, bad = correlation.match_values(node, values, sight=not no_sightings)
    for _value, reason in bad:
        env.err.print(f"[yellow]skipped[/] {reason}")
    if as_json:
        out = [
            {
                "value": m.shown,
                "indicator": m.indicator_id,
                "likely_benign": [{"value": v, "list": n} for v, n in m.likely_benign],
            }
            for m in matches
        ]
        sys.stdout.buffer.write(orjson.dumps(out, option=orjson.OPT_INDENT_2) + b"\n")
    if not matches:
        if not as_json:
            env.console.print("no match")
        raise SystemExit(1)
    if as_json:
        if not no_sightings:
            env.err.print(f"{len({m.indicator_id for m in matches})} sightings recorded")
        return
    table = Table("value", "indicator", "likely benign (warning lists)")
    for m in matches:
        flags = "; ".join(f"{v}: {n}" for v, n in m.likely_benign) or "-"
        table.add_row(m.shown, m.indicator_id, flags)
    env.console.print(table)
    if not no_sightings:
        env.err.print(f"{len({m.indicator_id for m in matches})} sightings recorded")


def _values(obj: dict[str, object]) -> list[str]:
    value = obj.get("value")
    if isinstance(value, str):
        return [value]
    hashes = obj.get("hashes")
    if isinstance(hashes, dict):
        return [str(h) for h in hashes.values()]
    return []


COMMANDS = [match]
