"""Trust framework commands: agreements, consents, explain, preview, keys."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.table import Table

from kizuna.cli.context import Env
from kizuna.cli.io import FORMAT_HELP, FORMATS, exported_chunks, write_chunks
from kizuna.cli.listing import emit, json_option
from kizuna.core.agreements import Agreement
from kizuna.core.policy import RULE_NAMES, Decision
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.services import agreements as agreement_service
from kizuna.services import consents as consent_service
from kizuna.services import explain as explain_service
from kizuna.services import export as export_service
from kizuna.services import gate, withholding
from kizuna.services import parties as party_service
from kizuna.services.node import read_key, write_new_key
from kizuna.storage.objects import StoredVersion

pass_env = click.make_pass_decorator(Env)


def _write_json(document: object, out: Path | None) -> None:
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(data)


def _agreement_line(a: Agreement) -> str:
    # Signatures with keys this node trusts, of every party whose signature it needs.
    signed = f"{len(a.signed_by & a.signers_needed)}/{len(a.signers_needed)} signed"
    return f"{a.ref}  {a.state}  {signed}  {a.title}"


# -- keys ---------------------------------------------------------------------------------------


@click.group()
def key() -> None:
    """Ed25519 key files, for parties that sign agreements and consents on their own machines."""


@key.command("rotate")
@pass_env
def key_rotate(env: Env) -> None:
    """Give this node a new Ed25519 key.

    The old public key stays among the home party's keys, so what it sealed and the ledger
    checkpoints it signed still verify; everything signed from now on uses the new key. Peers
    learn the new key from an announcement signed by the old one, which they pull like any
    object. The old key file is kept as node.key.<key id>.retired (0600). Restart `kizuna
    serve` afterwards (a running server signs with the key it started with).
    """
    from kizuna.services import keys

    done = keys.rotate(env.node())
    click.echo(done.new_public_key)
    env.err.print(
        f"[green]key rotated[/]: {done.old_key_id} -> {done.new_key_id} "
        f"({keys.fingerprint(done.new_public_key)}); announcement {done.announcement};"
        f" old key kept in {done.retired_file}",
        soft_wrap=True,
    )


@key.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def key_create(path: Path) -> None:
    """Create a key file at PATH (mode 0600, never overwritten); prints its public key."""
    click.echo(write_new_key(path))


# -- agreements -------------------------------------------------------------------------------


@click.group()
def agreement() -> None:
    """Agreements: signed, versioned arrangements that govern every release.

    \b
    Life of an agreement:
      kizuna agreement create TEMPLATE.yaml --out draft.json   (a draft, keys filled in)
      kizuna agreement sign draft.json --key party.key         (each party, on its machine)
      kizuna agreement import signed.json                      (on every party's node)
    It is active once every party has signed with a key this node trusts for it (parties and
    keys come from `kizuna party add`, never from an agreement) and now is inside its validity.
    A new version also needs the signatures of every party of the version it replaces.
    """


@agreement.command("create")
@click.argument("template", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the draft here."
)
@pass_env
def agreement_create(env: Env, template: Path, out: Path | None) -> None:
    """Create a draft agreement from a JSON or YAML TEMPLATE and store it.

    The template names its parties by name or id; this node fills in their attributes and
    public keys from its party registry. Prints the agreement's id.
    """
    node = env.node()
    document = agreement_service.from_template(node, agreement_service.load_document(template))
    stored = agreement_service.add(node, document)
    if out:
        _write_json(stored.document, out)
    click.echo(stored.id)


@agreement.command("delete")
@click.argument("agreement_id")
@pass_env
def agreement_delete(env: Env, agreement_id: str) -> None:
    """Delete a draft agreement (every version still a draft): one that failed, or was made from
    the wrong template. An agreement that was ever active can only be terminated."""
    n = agreement_service.delete_draft(env.node(), agreement_id)
    click.echo(f"deleted {agreement_id} ({n} draft version{'s' if n != 1 else ''})")


@agreement.command("sign")
@click.argument("target")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sign a document FILE offline with this key file instead of this node's key.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the signed FILE."
)
@click.option("--version", type=int, help="Version to sign (default: the newest).")
@pass_env
def agreement_sign(
    env: Env, target: str, key_file: Path | None, out: Path | None, version: int | None
) -> None:
    """Sign TARGET: a stored agreement id (with this node's key), or a document FILE with --key.

    Offline signing needs no node: the key decides which party signs.
    """
    if key_file is not None:
        path = Path(target)
        document = agreement_service.load_document(path)
        signed = agreement_service.sign_file_document(document, read_key(key_file))
        _write_json(signed, out or path)
        env.err.print(f"signed; wrote {out or path}")
        return
    stored = agreement_service.sign(env.node(), target, version)
    click.echo(_agreement_line(stored))


@agreement.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_env
def agreement_import(env: Env, files: tuple[Path, ...]) -> None:
    """Import agreement documents (JSON or YAML); signatures merge into stored copies."""
    node = env.node()
    for path in files:
        stored = agreement_service.add(node, agreement_service.load_document(path))
        click.echo(_agreement_line(stored))
        reason = stored.inactive_reason(node.now())
        if reason is not None:
            env.err.print(f"not in force: {reason}")


@agreement.command("list")
@json_option
@pass_env
def agreement_list(env: Env, as_json: bool) -> None:
    """List agreements (newest versions) with their state."""
    rows = []
    now = env.node().now()
    for s in agreement_service.list_all(env.node()):
        a = s.agreement
        reason = a.inactive_reason(now)
        rows.append(
            (
                a.id,
                a.version,
                a.state,
                f"{len(a.signed_by & a.signers_needed)}/{len(a.signers_needed)}",
                a.title,
                "in force" if reason is None else reason,
            )
        )
    emit(env, ("id", "version", "state", "signed", "title", "valid"), rows, as_json=as_json)


@agreement.command("show")
@click.argument("agreement_id")
@click.option("--version", type=int, help="Version (default: the newest).")
@click.option("--json", "as_json", is_flag=True, help="Print the signed document as JSON.")
@pass_env
def agreement_show(env: Env, agreement_id: str, version: int | None, as_json: bool) -> None:
    """Show one agreement: parties, equivalences, clauses, signatures."""
    stored = agreement_service.get(env.node(), agreement_id, version)
    a = stored.agreement
    if as_json:
        _write_json(a.document, None)
        return
    c = env.console
    c.print(f"[bold]{a.title}[/]  {a.ref}  [{a.state}]")
    if a.purpose:
        c.print(f"purpose: {a.purpose}")
    until = format_timestamp(a.valid_until_us) if a.valid_until_us else "open-ended"
    c.print(f"valid: {format_timestamp(a.valid_from_us)} to {until}")
    c.print(
        f"TLP allowed: {', '.join(sorted(a.tlp_allowed))}; onward release: {a.onward_release}; "
        f"receipts owed: {'yes' if a.receipts_owed else 'no'}"
    )
    parties = Table("party", "id", "jurisdiction", "kind", "scheme", "signed")
    for p in a.parties:
        parties.add_row(
            p.name,
            p.id,
            p.jurisdiction,
            p.kind,
            p.scheme or "-",
            "yes" if p.id in a.signed_by else "no",
        )
    c.print(parties)
    if a.equivalences:
        schemes = sorted({s for row in a.equivalences for s, _ in row.levels})
        eq = Table("rank", *schemes, title=f"classification equivalences (max rank {a.max_rank})")
        for row in sorted(a.equivalences, key=lambda r: -r.rank):
            eq.add_row(str(row.rank), *[row.level(s) or "-" for s in schemes])
        c.print(eq)
        if a.classification_note:
            c.print(f"[yellow]note:[/] {a.classification_note}")
    for profile in a.redaction_profiles:
        who = sorted(profile.jurisdictions | profile.kinds | profile.parties)
        c.print(f"redaction profile {profile.name!r} applies to {', '.join(who)}")
    if a.disclosure is not None:
        for line in a.disclosure.lines({p.id: p.name for p in a.parties}):
            c.print(line, markup=False, highlight=False)
    else:
        c.print("disclosure policy: none (cases under this agreement state their own)")


@agreement.command("history")
@click.argument("agreement_id")
@pass_env
def agreement_history(env: Env, agreement_id: str) -> None:
    """Every version of an agreement, oldest first."""
    for s in agreement_service.history(env.node(), agreement_id):
        click.echo(f"{format_timestamp(s.updated_us)}  {_agreement_line(s.agreement)}")


def _transition(action: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @click.argument("agreement_id")
    @pass_env
    def run(env: Env, agreement_id: str) -> None:
        click.echo(_agreement_line(agreement_service.transition(env.node(), agreement_id, action)))

    return run


for _action, _help in (
    (
        "suspend",
        "Suspend an agreement: releases under it stop at once. The suspension is signed by "
        "your node and applied on every party's node as it syncs.",
    ),
    ("resume", "Lift your suspension (another party's stands until that party resumes)."),
    (
        "terminate",
        "Terminate an agreement for good, on every party's node; its releases stay in the ledger.",
    ),
):
    agreement.add_command(_transition(_action, _help))


@agreement.command("schema")
def agreement_schema() -> None:
    """Print the JSON Schema of agreement documents."""
    from importlib import resources

    sys.stdout.write((resources.files("kizuna") / "data" / "agreement.schema.json").read_text())


# -- consents ---------------------------------------------------------------------------------


@click.group()
def consent() -> None:
    """Consents: an originator's signed permission to release its objects onward."""


@consent.command("grant")
@click.option("--object", "objects", multiple=True, help="Object id it covers (repeatable).")
@click.option(
    "--type", "types", multiple=True, help="Or: every object of this STIX type (repeatable)."
)
@click.option("--to", "parties", multiple=True, help="Party (name or id) it permits (repeatable).")
@click.option("--agreement", "agreements", multiple=True, help="Or: every party of this agreement.")
@click.option(
    "--expires", required=True, help="When it lapses: a STIX timestamp, or e.g. 30d, 12h."
)
@click.option("--originator", help="Whose consent (default: the home party).")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The originator's key file, when it is not the home party.",
)
@pass_env
def consent_grant(
    env: Env,
    objects: tuple[str, ...],
    types: tuple[str, ...],
    parties: tuple[str, ...],
    agreements: tuple[str, ...],
    expires: str,
    originator: str | None,
    key_file: Path | None,
) -> None:
    """Grant consent to release objects onward (all the originator's, unless --object or --type
    narrow it)."""
    node = env.node()
    granted = consent_service.grant(
        node,
        expires_us=_expiry(expires, node.now()),
        objects=objects,
        types=types,
        parties=parties,
        agreements=agreements,
        originator=originator,
        private_key=read_key(key_file) if key_file else None,
    )
    click.echo(granted.id)


def _expiry(value: str, now: int) -> int:
    units = {"d": 86_400, "h": 3_600, "m": 60}
    if value[:-1].isdigit() and value[-1:] in units:
        return now + int(value[:-1]) * units[value[-1]] * 1_000_000
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is neither a STIX timestamp nor like 30d/12h/90m"
        ) from exc


@consent.command("list")
@click.option("--originator", help="Only this originator's consents.")
@json_option
@pass_env
def consent_list(env: Env, originator: str | None, as_json: bool) -> None:
    """List consents."""
    node = env.node()
    names = {p.id: p.name for p in party_service.all_parties(node)}
    rows = []
    found = consent_service.list_consents(node, originator)
    states = consent_service.states(node, found)
    for c in found:
        covers = ", ".join(sorted(c.objects)) or (
            ", ".join(sorted(c.types)) + " objects" if c.types else "all objects"
        )
        to = ", ".join([names.get(p, p) for p in sorted(c.parties)] + sorted(c.agreements))
        state = states[c.id]
        rows.append(
            (
                c.id,
                names.get(c.originator, c.originator),
                covers,
                to,
                format_timestamp(c.expires_us),
                state,
            )
        )
    columns = ("id", "originator", "covers", "to", "expires", "state")
    emit(env, columns, rows, as_json=as_json)


@consent.command("revoke")
@click.argument("consent_id")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The originator's key file, when it is not the home party.",
)
@pass_env
def consent_revoke(env: Env, consent_id: str, key_file: Path | None) -> None:
    """Revoke a consent (a new, revoked version signed by the originator)."""
    consent_service.revoke(env.node(), consent_id, read_key(key_file) if key_file else None)
    click.echo(f"revoked {consent_id}")


# -- explain, preview -------------------------------------------------------------------------


def _verdict_lines(decision: Decision) -> list[str]:
    out = []
    for v in decision.verdicts:
        mark = {True: "pass", False: "FAIL", None: "n/a "}[v.passed]
        out.append(f"  {mark}  rule {v.rule} ({RULE_NAMES[v.rule]}): {v.sentence}")
    return out


@click.command()
@click.argument("object_id")
@click.option("--to", "recipient", required=True, help="The party (name or id).")
@pass_env
def explain(env: Env, object_id: str, recipient: str) -> None:
    """Explain whether OBJECT_ID would go to a party, rule by rule, for each of its versions."""
    node = env.node()
    party = party_service.find(node, recipient)
    for e in explain_service.explain(node, object_id, party):
        d = e.decision
        version = format_timestamp(e.version.modified)
        head = f"{object_id} version {version} -> {party.name}: {d.outcome}"
        if d.agreement:
            head += f" under {d.agreement}"
        if d.level:
            head += f", seen as {d.level.scheme} {d.level.level}"
        if e.released_id and e.released_id != object_id:
            head += f" as derivative {e.released_id}"
        click.echo(head)
        for line in _verdict_lines(d):
            click.echo(line)


@click.command()
@click.option("--to", "recipient", required=True, help="The party (name or id).")
@click.option("--list", "listing", is_flag=True, help="List each object it would receive.")
@click.option(
    "--withheld", is_flag=True, help="List each object withheld from it, with the refusing rule."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the objects it would receive to FILE, for your own eyes (not a release).",
)
@click.option(
    "--format", "fmt", type=FORMATS, default="bundle", show_default=True, help=FORMAT_HELP
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts per reason as JSON.")
@pass_env
def preview(
    env: Env,
    recipient: str,
    listing: bool,
    withheld: bool,
    out: Path | None,
    fmt: str,
    as_json: bool,
) -> None:
    """What a party would receive now, and what the gate withholds from it, counted per reason.

    A preview is not a release: nothing is sealed or written to the ledger, even with --out
    FILE. To hand objects to the party, use `kizuna export --to PARTY` (a release, recorded
    in the ledger).
    """
    node = env.node()
    party = party_service.find(node, recipient)

    def each(v: StoredVersion, d: Decision) -> None:
        if d.released and listing:
            extra = f" under {d.agreement}" if d.agreement else ""
            released_as = gate.released_id(v, d)
            if released_as != v.id:
                extra += f" (derivative {released_as})"
            click.echo(f"release  {v.id}{extra}")
        elif not d.released and withheld:
            refusal = d.refusal
            why = f"rule {refusal.rule}: {refusal.sentence}" if refusal else ""
            click.echo(f"withhold {v.id}  {why}")

    tally = withholding.for_party(node, party, each=each)
    if out is not None:
        written = export_service.Tally()
        write_chunks(exported_chunks(node, party, fmt, preview=True, tally=written), out)
        env.err.print(
            f"wrote {written.objects} objects {party.name} would receive to {out}"
            " (a preview: nothing sealed, nothing recorded in the ledger)",
            soft_wrap=True,
        )
    if as_json:
        _write_json(tally.as_json(), None)
        return
    click.echo(
        f"{tally.released} objects would be released to {party.name}, {tally.withheld} withheld"
        + (":" if tally.withheld else "")
    )
    for reason, n in tally.ranked():
        click.echo(f"  {n:>8,}  {reason.code}: {reason.sentence}")


COMMANDS = [key, agreement, consent, explain, preview]
