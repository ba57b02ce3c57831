"""``kizuna cvd``: coordinated vulnerability disclosure cases (docs/cvd.md)."""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from rich.table import Table

from kizuna.cli.context import Env
from kizuna.core.csaf.writer import dumps
from kizuna.core.cvd.case import VEX_JUSTIFICATIONS, VEX_STATUSES, Product, Vendor, Vulnerability
from kizuna.core.cvd.states import CS_FLAGS, RM_STATES
from kizuna.errors import InvalidInput
from kizuna.services import cvd as service
from kizuna.services import parties

pass_env = click.make_pass_decorator(Env)
TLPS = click.Choice(["green", "amber", "amber+strict", "red"])


@click.group()
def cvd() -> None:
    """Coordinated vulnerability disclosure: cases with reporter, coordinators (on any node),
    vendors and vulnerabilities; Vultron report, case and embargo states with who, when and
    why; SSVC and CVSS; CSAF advisories. Every object of a case goes only to its participants,
    through the gate. See docs/cvd.md."""


def _pairs(text: str, what: str, keys: set[str]) -> dict[str, str]:
    out = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in keys:
            raise InvalidInput(
                f"{what} {text!r}: write key=value pairs separated by ';' with keys "
                f"{', '.join(sorted(keys))}"
            )
        out[key.strip()] = value.strip()
    return out


def _product(text: str) -> Product:
    p = _pairs(text, "--product", {"vendor", "name", "version", "range", "cpe", "purl"})
    if "vendor" not in p or "name" not in p:
        raise InvalidInput(f"--product {text!r} needs vendor= and name=")
    return Product(p["vendor"], p["name"], p.get("version"), p.get("range"), p.get("cpe"),
                   p.get("purl"))  # fmt: skip


def _vendor(text: str) -> Vendor:
    v = _pairs(text, "--vendor", {"name", "party", "email", "pgp"})
    if "name" not in v:
        raise InvalidInput(f"--vendor {text!r} needs name=")
    return Vendor(v["name"], v.get("party"), v.get("email"), v.get("pgp"))


@cvd.group("case")
def case() -> None:
    """Create, show and list cases."""


@case.command("create")
@click.option("--title", required=True, help="The case's title.")
@click.option("--reporter", required=True, help="Who reported it: a party (name or id) or a name.")
@click.option(
    "--coordinator",
    "coordinators",
    multiple=True,
    help="A co-coordinator besides this node's party (name or id); repeatable.",
)
@click.option(
    "--vendor",
    "vendors",
    multiple=True,
    metavar="name=…;party=…|email=…;pgp=…",
    help="A vendor: a party, or an external contact recorded with e-mail and PGP "
    "fingerprint; repeatable.",
)
@click.option("--vulnerability", "vtitle", required=True, help="The vulnerability's title.")
@click.option("--cve", help="CVE id, e.g. CVE-2026-40001.")
@click.option("--euvd", help="EUVD id, e.g. EUVD-2026-1234.")
@click.option("--jvn", help="JVN id, e.g. JVNVU#90000001.")
@click.option("--cwe", help="CWE id, e.g. CWE-787.")
@click.option("--description", default="", help="What the vulnerability is.")
@click.option(
    "--product",
    "products",
    multiple=True,
    metavar="vendor=…;name=…[;version=…|range=vers:…][;cpe=…][;purl=…]",
    help="An affected product; repeatable.",
)
@click.option(
    "--tlp",
    type=TLPS,
    default="amber",
    show_default=True,
    help="The case's TLP; members only, in any case.",
)
@click.option("--why", default="", help="Why (recorded with the report).")
@pass_env
def case_create(env: Env, title: str, reporter: str, coordinators: tuple[str, ...],
                vendors: tuple[str, ...], vtitle: str, cve: str | None, euvd: str | None,
                jvn: str | None, cwe: str | None, description: str, products: tuple[str, ...],
                tlp: str, why: str) -> None:  # fmt: skip
    """Open a case coordinated by this node's party; prints its id."""
    vuln = Vulnerability(vtitle, cve, euvd, jvn, cwe, description,
                         tuple(_product(p) for p in products))  # fmt: skip
    cid = service.create(env.node(), title=title, vulnerabilities=[vuln], reporter=reporter,
                         coordinators=coordinators, vendors=[_vendor(v) for v in vendors],
                         tlp=tlp, why=why)  # fmt: skip
    click.echo(cid)


def _name(env: Env, ref: str) -> str:
    try:
        return parties.find(env.node(), ref).name
    except Exception:  # an external name
        return ref


@case.command("show")
@click.argument("case_id", metavar="CASE")
@click.option("--json", "as_json", is_flag=True, help="Print the case as JSON.")
@pass_env
def case_show(env: Env, case_id: str, as_json: bool) -> None:
    """Show a case: states, embargo, participants, statuses, timeline."""
    st = service.show(env.node(), case_id)
    if as_json:
        click.echo(orjson.dumps(st.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    d = st.to_dict()
    c = env.console
    c.print(f"[bold]{st.title}[/]  {st.id}  TLP:{st.tlp.upper()}", highlight=False)
    c.print(f"reporter: {_name(env, st.reporter)}; coordinators: "
            f"{', '.join(_name(env, x) for x in st.coordinators)}", highlight=False)  # fmt: skip
    c.print(f"report: {st.report}; case state: {d['case_state']}; embargo: {st.embargo}"
            + (f" until {st.embargo_until}" if st.embargo_until and st.embargoed else "")
            + (f" (proposed until {st.proposed_until})" if st.proposed_until else ""),
            highlight=False)  # fmt: skip
    for p, s in sorted(st.participants.items()):
        c.print(f"participant {_name(env, p)}: {s}", highlight=False)
    for v in d["vulnerabilities"]:
        c.print(f"vulnerability {v['name']}: {v['title']} {v['ids']}", highlight=False)
    for s in d["statuses"]:
        c.print(f"status {s['vendor']} / {st.vulnerabilities[s['vulnerability']]['name']}: "
                f"{s['status']} {s.get('justification', '')}", highlight=False)  # fmt: skip
    table = Table("when", "what", "who", "why", title="timeline")
    for t in st.timeline:
        what = (
            t.machine
            + " "
            + " ".join(
                str(v)
                for k, v in t.detail.items()
                if k in ("to", "flag", "action", "status", "party")
            )
        )
        table.add_row(t.at, what, _name(env, t.actor), t.why)
    c.print(table)


@case.command("list")
@pass_env
def case_list(env: Env) -> None:
    """The cases this node holds, one a line: id, report state, case state, embargo, title."""
    from kizuna.core.cvd.states import cs_string

    for st in service.list_cases(env.node()):
        click.echo(f"{st.id}\t{st.report}\t{cs_string(st.flags)}\t{st.embargo}\t{st.title}")


@cvd.command("invite")
@click.argument("case_id", metavar="CASE")
@click.argument("party")
@click.option("--why", default="", help="The invitation's text (the invitee sees only this).")
@pass_env
def invite(env: Env, case_id: str, party: str, why: str) -> None:
    """Invite PARTY to the case; it sees nothing but the invitation until it accepts."""
    click.echo(service.invite(env.node(), case_id, party, why))


@cvd.command("status")
@click.argument("case_id", metavar="CASE")
@click.argument("state", type=click.Choice([*RM_STATES[1:], *CS_FLAGS]))
@click.option("--why", required=True, help="Why (recorded with who and when).")
@pass_env
def status(env: Env, case_id: str, state: str, why: str) -> None:
    """Move the report (valid, invalid, accepted, deferred, closed) or set a case state
    (vendor-aware, fix-ready, fix-deployed, public, exploit-public, attacks-observed).
    Exploit public, attacks observed or public end an active embargo at once and tell
    every participant."""
    node = env.node()
    if state in RM_STATES:
        service.report(node, case_id, state, why)
        return
    told = service.case_status(node, case_id, state, why)
    if told:
        click.echo(f"embargo ended ({state}); told: {', '.join(told)}")


@cvd.command("vex")
@click.argument("case_id", metavar="CASE")
@click.argument("vendor")
@click.argument("vulnerability")
@click.argument("vex_status", metavar="STATUS", type=click.Choice(VEX_STATUSES))
@click.option(
    "--justification",
    type=click.Choice(VEX_JUSTIFICATIONS),
    help="Why not affected (CSAF/VEX justification).",
)
@click.option("--impact", help="An impact statement (for known_not_affected).")
@click.option("--why", default="", help="Why (recorded).")
@pass_env
def vex(env: Env, case_id: str, vendor: str, vulnerability: str, vex_status: str,
        justification: str | None, impact: str | None, why: str) -> None:  # fmt: skip
    """Record VENDOR's CSAF/VEX STATUS for VULNERABILITY (id, CVE or JVN id)."""
    service.vendor_status(env.node(), case_id, vendor, vulnerability, vex_status,
                          justification=justification, impact=impact, why=why)  # fmt: skip


@cvd.group("embargo")
def embargo() -> None:
    """Vultron embargo: none → proposed → active ⇄ revise → exited."""


@embargo.command("propose")
@click.argument("case_id", metavar="CASE")
@click.option(
    "--days",
    type=click.IntRange(1, 730),
    help="Length (default: the agreement's disclosure policy, else 90).",
)
@click.option("--until", help="End as a timestamp instead, e.g. 2027-03-01T00:00:00Z.")
@click.option("--why", default="", help="Why (recorded).")
@pass_env
def embargo_propose(env: Env, case_id: str, days: int | None, until: str | None, why: str) -> None:
    """Propose an embargo (or a revision of the active one)."""
    service.embargo_propose(env.node(), case_id, days=days, until=until, why=why)


@embargo.command("accept")
@click.argument("case_id", metavar="CASE")
@click.option("--as", "as_party", help="Record that this invited party accepted (signatory).")
@click.option("--why", default="", help="Why (recorded).")
@pass_env
def embargo_accept(env: Env, case_id: str, as_party: str | None, why: str) -> None:
    """Accept the proposed embargo (it becomes active), or with --as record an invited
    party's acceptance."""
    node = env.node()
    if as_party:
        service.respond(node, case_id, parties.find(node, as_party), True, why)
    else:
        service.embargo_accept(node, case_id, why)


@embargo.command("decline")
@click.argument("case_id", metavar="CASE")
@click.option("--as", "as_party", help="Record that this invited party declined.")
@click.option("--why", default="", help="Why (recorded).")
@pass_env
def embargo_decline(env: Env, case_id: str, as_party: str | None, why: str) -> None:
    """Reject the proposed embargo or revision, or with --as record an invited party's
    refusal."""
    node = env.node()
    if as_party:
        service.respond(node, case_id, parties.find(node, as_party), False, why)
    else:
        service.embargo_reject(node, case_id, why)


@embargo.command("exit")
@click.argument("case_id", metavar="CASE")
@click.option("--reason", type=click.Choice(["ended", "exploit-public", "attacks-observed",
                                             "public"]), default="ended", show_default=True,
              help="Why it ends; the last three also set that case state.")  # fmt: skip
@click.option("--why", required=True, help="Why (recorded, told to every participant).")
@pass_env
def embargo_exit(env: Env, case_id: str, reason: str, why: str) -> None:
    """End the embargo now and tell every participant."""
    node = env.node()
    told = (service.case_status(node, case_id, reason, why) if reason != "ended"
            else service.embargo_exit(node, case_id, why))  # fmt: skip
    click.echo(f"embargo ended ({reason}); told: {', '.join(told)}")


@cvd.command("statement")
@click.argument("case_id", metavar="CASE")
@click.argument("vendor", required=False)
@click.argument("text", required=False)
@click.option("--vulnerability", help="The vulnerability it is about (id, CVE or JVN id).")
@click.option("--approve", metavar="STATEMENT", help="Approve this draft.")
@click.option("--share", metavar="STATEMENT", help="Share this approved statement.")
@pass_env
def statement(
    env: Env,
    case_id: str,
    vendor: str | None,
    text: str | None,
    vulnerability: str | None,
    approve: str | None,
    share: str | None,
) -> None:
    """Draft VENDOR's statement TEXT (prints its id), then --approve and --share it. Drafts
    and approved statements stay on this node; shared ones go to every participant."""
    node = env.node()
    if approve or share:
        service.statement_move(node, case_id, str(approve or share),
                               "approved" if approve else "shared")  # fmt: skip
        return
    if not vendor or not text:
        raise click.UsageError("give VENDOR and TEXT to draft, or --approve / --share ID")
    click.echo(service.statement(node, case_id, vendor, text, vulnerability))


@cvd.command("ssvc")
@click.argument("case_id", metavar="CASE")
@click.argument("table", type=click.Choice(sorted(service.ssvc_tables())))
@click.argument("inputs", nargs=-1, metavar="POINT=VALUE...")
@click.option("--why", default="", help="Why (recorded).")
@pass_env
def ssvc(env: Env, case_id: str, table: str, inputs: tuple[str, ...], why: str) -> None:
    """Decide with an official SSVC TABLE, e.g. `cisa exploitation=active automatable=yes
    technical-impact=total mission-and-well-being-impact=high`; stored with inputs and version."""
    given = {}
    for item in inputs:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"{item!r}: write POINT=VALUE")
        given[key] = value
    d = service.ssvc(env.node(), case_id, table, given, why)
    click.echo(f"{d['outcome']}  ({d['source']}, table v{d['table_version']})")


@cvd.command("cvss")
@click.argument("case_id", metavar="CASE")
@click.argument("vulnerability")
@click.argument("vector")
@pass_env
def cvss(env: Env, case_id: str, vulnerability: str, vector: str) -> None:
    """Score a CVSS 3.1 or 4.0 VECTOR for VULNERABILITY (with the cvss package) and record it."""
    s = service.cvss(env.node(), case_id, vulnerability, vector)
    click.echo(f"{s['base_score']} {s['severity']}  {s['vector']}")


@cvd.command("advisory")
@click.argument("case_id", metavar="CASE")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the CSAF 2.0 document here.",
)
@click.option("--vex", is_flag=True, help="A CSAF VEX document instead of a security advisory.")
@click.option("--draft", is_flag=True, help="A draft for the members (allowed under embargo).")
@click.option("--summary", default="", help="The revision's summary.")
@pass_env
def advisory(env: Env, case_id: str, out: Path, vex: bool, draft: bool, summary: str) -> None:
    """Write the case's CSAF 2.0 advisory (or VEX) to --out; a final one only after the embargo."""
    doc = service.advisory(env.node(), case_id, vex=vex, draft=draft, summary=summary)
    out.write_bytes(dumps(doc))
    click.echo(f"{doc['document']['tracking']['id']} v{doc['document']['tracking']['version']} "
               f"→ {out}")  # fmt: skip


COMMANDS = [cvd]
