"""``kizuna attribution``: joint attribution cases, ACH, assessments and the joint statement."""

from __future__ import annotations

import sys

import click
import orjson
from rich.table import Table

from kizuna.cli.context import Env
from kizuna.core.attribution.joint import JointPicture
from kizuna.errors import NotFound
from kizuna.services import attribution as service
from kizuna.services import parties

pass_env = click.make_pass_decorator(Env)


@click.group()
def attribution() -> None:
    """Joint attribution: a case shared with its participants only, each partner's own
    analysis of competing hypotheses (ACH) and graded assessments side by side (never
    averaged), and a coordinated statement released at a joint time. See docs/attribution.md.
    """


def _say(env: Env, text: str, value: str) -> None:
    env.err.print(text)
    click.echo(value)


@attribution.command("case")
@click.argument("name", required=False)
@click.option("--about", multiple=True, help="A campaign, intrusion-set, incident or report id.")
@click.option("--participant", "participants", multiple=True, help="A partner (name or id).")
@click.option(
    "--tlp",
    type=click.Choice(["green", "amber", "amber+strict", "red"]),
    default="amber",
    help="The case's TLP (default amber); participants only, in any case.",
)
@click.option("--show", "show", metavar="CASE", help="Show a case's joint picture instead.")
@click.option("--json", "as_json", is_flag=True, help="With --show: print JSON.")
@pass_env
def case_command(
    env: Env,
    name: str | None,
    about: tuple[str, ...],
    participants: tuple[str, ...],
    tlp: str,
    show: str | None,
    as_json: bool,
) -> None:
    """Open a case NAME about --about objects with --participant partners (prints its id),
    or --show CASE; with neither, list the cases."""
    node = env.node()
    if show:
        v = service.view(node, show, node.home_party)
        if as_json:
            from kizuna.http.attribution import picture_out

            out = {"case": v.case, **picture_out(v.joint)}
            sys.stdout.buffer.write(orjson.dumps(out, option=orjson.OPT_INDENT_2) + b"\n")
            return
        _print_picture(env, v.case.get("name", show), v.joint)
        return
    if not name:
        for c in service.cases(node, node.home_party):
            click.echo(f"{c['id']}  {c.get('name', '')}")
        return
    case_id = service.open_case(node, name, list(about), list(participants), tlp)
    _say(env, f"opened case {name!r} for {len(participants) + 1} participants", case_id)


def _name(env: Env, party_id: str) -> str:
    try:
        return parties.find(env.node(), party_id).name
    except NotFound:
        return party_id


def _print_picture(env: Env, title: str, j: JointPicture) -> None:
    env.console.print(f"[bold]{title}[/]")
    if j.withheld_held_by:
        env.console.print(f"evidence not shown to you: held by {j.withheld_held_by} partners")
    for h in j.hypotheses:
        table = Table("partner", "assessment", "ACH weighted", "rank", title=h.hypothesis.label)
        for p in h.partners:
            words = p.assessment.describe() if p.assessment else "-"
            score = "-" if p.score is None else f"{p.score:.3f}"
            table.add_row(_name(env, p.partner), words, score, str(p.rank or "-"))
        env.console.print(table)
        env.console.print(f"  {h.agreement}" + (
            f"; ratings differ on {', '.join(d.evidence for d in h.divergences)}"
            if h.divergences else ""))  # fmt: skip


@attribution.command()
@click.argument("case")
@click.option("--actor", help="intrusion-set or threat-actor id (none: an unknown actor).")
@click.option("--false-flag", is_flag=True, help="Someone posing as the actor.")
@click.option("--name", default="", help="A label for the actor.")
@pass_env
def hypothesis(env: Env, case: str, actor: str | None, false_flag: bool, name: str) -> None:
    """Add a hypothesis to CASE (prints its id)."""
    hid = service.add_hypothesis(env.node(), case, actor, false_flag=false_flag, name=name)
    _say(env, "hypothesis added", hid)


@attribution.command()
@click.argument("case")
@click.option("--grade", required=True, help="Admiralty grade: reliability A-F, credibility 1-6.")
@click.option("--kind", required=True, help="technical, infrastructure, behavioural, linguistic, "
              "geopolitical, human-source (recorded only as existing)")  # fmt: skip
@click.option("--ref", "refs", multiple=True, help="A STIX object the item rests on.")
@click.option("--summary", default="", help="What the item shows, in a sentence.")
@pass_env
def evidence(
    env: Env, case: str, grade: str, kind: str, refs: tuple[str, ...], summary: str
) -> None:
    """Add a graded evidence item to CASE (prints its id)."""
    eid = service.add_evidence(env.node(), case, grade, kind, list(refs), summary)
    _say(env, f"evidence added, graded {grade.upper()}", eid)


@attribution.command()
@click.argument("case")
@click.argument("evidence_id", metavar="EVIDENCE")
@click.argument("ratings", nargs=-1, required=True, metavar="HYPOTHESIS=RATING...")
@click.option(
    "--relevance",
    type=click.Choice(["low", "medium", "high"]),
    default="medium",
    help="How much the item bears on the question (weights the inconsistency score).",
)
@pass_env
def rate(env: Env, case: str, evidence_id: str, ratings: tuple[str, ...], relevance: str) -> None:
    """Rate EVIDENCE against hypotheses: CC, C, N, I, II or NA (Heuer)."""
    cells = {}
    for pair in ratings:
        hid, sep, r = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: expected HYPOTHESIS=RATING", param_hint="RATINGS")
        cells[hid] = r
    _say(env, "ratings recorded", service.rate(env.node(), case, evidence_id, cells, relevance))


@attribution.command()
@click.argument("case")
@click.argument("hypothesis_id", metavar="HYPOTHESIS")
@click.option(
    "--scale",
    type=click.Choice(["icd-203", "phia"]),
    default="icd-203",
    help="The estimative scale of --likelihood.",
)
@click.option("--likelihood", required=True, help='e.g. "likely", "realistic possibility"')
@click.option(
    "--confidence",
    type=click.Choice(["low", "moderate", "high"]),
    required=True,
    help="Confidence in the judgement, stated apart from the likelihood.",
)
@click.option("--rationale", required=True, help="Why: it travels with the assessment.")
@pass_env
def assess(
    env: Env,
    case: str,
    hypothesis_id: str,
    scale: str,
    likelihood: str,
    confidence: str,
    rationale: str,
) -> None:
    """State the home party's likelihood and confidence for HYPOTHESIS."""
    oid = service.assess(env.node(), case, hypothesis_id, scale, likelihood, confidence, rationale)
    _say(env, "assessment recorded", oid)


@attribution.command()
@click.argument("case")
@click.option("--text", required=True, help="The statement's text.")
@click.option("--actor", required=True, help="The attributed intrusion-set or threat-actor id.")
@click.option("--subject", required=True, help="The campaign (or incident, …) attributed.")
@click.option(
    "--scale",
    type=click.Choice(["icd-203", "phia"]),
    default="icd-203",
    help="The estimative scale of --likelihood.",
)
@click.option("--likelihood", required=True, help='The words, e.g. "highly likely".')
@click.option(
    "--confidence",
    type=click.Choice(["low", "moderate", "high"]),
    required=True,
    help="The confidence words of the statement.",
)
@click.option("--invite", "invited", multiple=True, required=True, help="A participant to sign.")
@click.option("--release-at", required=True, help="The joint release time (RFC 3339, UTC).")
@pass_env
def statement(
    env: Env,
    case: str,
    text: str,
    actor: str,
    subject: str,
    scale: str,
    likelihood: str,
    confidence: str,
    invited: tuple[str, ...],
    release_at: str,
) -> None:
    """Draft a joint statement for the invited participants to sign (prints its id)."""
    sid = service.draft_statement(env.node(), case, text, actor, subject, scale, likelihood,
                                  confidence, list(invited), release_at)  # fmt: skip
    _say(env, f"statement drafted; nothing of it is published before {release_at}", sid)


@attribution.command("sign")
@click.argument("statement_id", metavar="STATEMENT")
@click.option("--variant", help="Sign this national variant of the text instead.")
@click.option("--abstain", is_flag=True, help="Decline to sign.")
@pass_env
def sign_command(env: Env, statement_id: str, variant: str | None, abstain: bool) -> None:
    """Record the home party's decision on STATEMENT: sign, sign a variant, or abstain."""
    if abstain and variant:
        raise click.UsageError("--abstain and --variant exclude each other")
    decision = "abstain" if abstain else "variant" if variant else "sign"
    oid = service.sign(env.node(), statement_id, decision, variant or "")
    _say(env, f"decision recorded: {decision}", oid)


@attribution.command("release")
@click.argument("statement_id", metavar="STATEMENT")
@pass_env
def release_command(env: Env, statement_id: str) -> None:
    """Publish STATEMENT for its signatories (held by the gate until the release time)."""
    out = service.release(env.node(), statement_id)
    env.err.print(
        f"published for {len(out.signatories)} signatories "
        f"({len(out.abstained)} abstained, {len(out.undecided)} undecided); "
        f"the gate holds it until {out.release_at}"
    )
    for oid in out.ids:
        click.echo(oid)


COMMANDS = [attribution]
