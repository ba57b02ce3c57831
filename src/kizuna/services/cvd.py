"""Coordinated vulnerability disclosure cases: the home party's acts, and a case as a party sees it.

A case and everything in it are STIX objects (``core.cvd.case``) stored like any other and
released only through the gate. The home party's objects of a case carry one handling marking
of its own, computed from the case's state (``_marking``):

- always: release recipients = the case's members (its author, coordinators, signatories);
- while the embargo is active (or under revision): also the embargo {until, participants},
  so the gate's embargo rule (rule 2) refuses every non-participant as well.

When the members or the embargo change, the home party's objects of the case get a new version
carrying the new marking (``_remark``); an older version goes only where the newest goes
(services.gate), so nothing is widened backwards. An invitation is an object of its own (a
``note`` naming the case id in its extension), marked for the inviter and the invitee alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson

from kizuna.core.cvd import case as wire
from kizuna.core.cvd import states
from kizuna.core.cvd.disclosure import DisclosurePolicy
from kizuna.core.cvd.ssvc import Table, parse_table
from kizuna.core.handling import Handling
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.errors import InvalidInput, NotFound
from kizuna.services import gate, ingest, parties
from kizuna.services import state as node_state
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion

DEFAULT_EMBARGO_DAYS = 90
DAY_US = 86_400_000_000


def no_such_case(case_id: str) -> NotFound:
    # One answer for an unknown case and one the caller may not see (DESIGN.md: nothing a
    # partner asks reveals the existence of an object withheld from it).
    return NotFound(f"no CVD case {case_id!r} here", code="no-such-case")


def _store(node: Node, objects: list[dict[str, Any]]) -> None:
    outcomes = ingest.ingest(node, objects, submitter=node.home_party, path="import")
    bad = [o for o in outcomes if not o.ok]
    if bad:
        raise bad[0].error or InvalidInput("the CVD object was refused")


def _stamp(node: Node) -> str:
    return format_timestamp(node.now())


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    version: StoredVersion
    obj: dict[str, Any]
    members: list[StoredVersion]


def _held(node: Node, case_id: str) -> _Held:
    with node.db.read() as conn:
        v = store.latest(conn, [case_id]).get(case_id)
        if v is None or v.type != "grouping":
            raise no_such_case(case_id)
        obj = orjson.loads(v.content)
        if wire.role_of(obj) != "case":
            raise no_such_case(case_id)
        members = store.referencing(conn, case_id)
    return _Held(v, obj, members)


def _fold(h: _Held, seen: Sequence[dict[str, Any]] | None = None) -> wire.CaseState:
    objs = seen if seen is not None else [orjson.loads(v.content) for v in h.members]
    return wire.read(h.obj, [o for o in objs if wire.role_of(o) is not None])


def show(node: Node, case_id: str, viewer: Party | None = None) -> wire.CaseState:
    """The case as ``viewer`` may see it (None or the home party: everything held). For a
    partner this is a release through the gate, sealed and written to the ledger."""
    h = _held(node, case_id)
    if viewer is None or viewer.id == node.home_party.id:
        return _fold(h)
    [(_, decision)] = gate.judge(node, viewer, [h.version])
    if not decision.released:
        raise no_such_case(case_id)
    released = gate.release(node, viewer, [h.version, *h.members])
    seen = [orjson.loads(r.content) for r in released.released]
    case_obj = next((o for o in seen if o.get("id") == case_id), None)
    if case_obj is None:
        raise no_such_case(case_id)
    return wire.read(case_obj, [o for o in seen if o.get("id") != case_id])


def list_cases(node: Node, viewer: Party | None = None) -> list[wire.CaseState]:
    """The cases ``viewer`` may see (a non-participant: none, not even a count)."""
    with node.db.read() as conn:
        groupings = store.of_type(conn, "grouping")
    mine = [v for v in groupings if wire.role_of(orjson.loads(v.content)) == "case"]
    if viewer is not None and viewer.id != node.home_party.id:
        released = {r.version.id for r in gate.release(node, viewer, mine).released}
        return [show(node, v.id, viewer) for v in mine if v.id in released]
    return [show(node, v.id) for v in mine]


# --- markings -----------------------------------------------------------------------------------


def _marking(node: Node, st: wire.CaseState) -> dict[str, Any]:
    """The home party's handling marking for its objects of the case, in its current state."""
    members = sorted(st.members | {node.home_party.id})
    until = st.embargo_until if st.embargoed else None
    key = hashlib.sha256(orjson.dumps([members, until])).hexdigest()[:16]
    mid = wire.derived_id("marking-definition", st.id, node.home_party.id, key)
    return handling_marking(
        mid,
        _stamp(node),
        node.home_party.id,
        recipients=members,
        embargo_until=until,
        embargo_participants=members if until else (),
        name="CVD case participants" + (" (embargoed)" if until else ""),
    )


def _markings_for(node: Node, st: wire.CaseState) -> tuple[list[str], list[dict[str, Any]]]:
    """The marking refs for a new object of the case, and the marking to store if new."""
    m = _marking(node, st)
    with node.db.read() as conn:
        held = store.latest(conn, [m["id"]])
    return [TLP_MARKING_ID[st.tlp], m["id"]], ([] if m["id"] in held else [m])


def _private(node: Node, case_id: str) -> tuple[list[str], list[dict[str, Any]]]:
    """A marking for the home party alone (drafts and approved statements)."""
    mid = wire.derived_id("marking-definition", case_id, node.home_party.id, "private")
    with node.db.read() as conn:
        held = store.latest(conn, [mid])
    m = handling_marking(mid, _stamp(node), node.home_party.id, recipients=[node.home_party.id],
                         name="CVD draft (author only)")  # fmt: skip
    return [TLP_MARKING_ID["red"], mid], ([] if mid in held else [m])


def _remark(node: Node, case_id: str) -> int:
    """Give every home-party object of the case the marking its current state demands."""
    h = _held(node, case_id)
    st = _fold(h)
    refs, new = _markings_for(node, st)
    stamp = _stamp(node)
    out: list[dict[str, Any]] = list(new)
    for v in [h.version, *h.members]:
        if v.source != node.home_party.id:
            continue
        obj = orjson.loads(v.content)
        if wire.role_of(obj) is None:
            continue
        if wire.role_of(obj) == "statement" and wire.fields_of(obj)["state"] != "shared":
            continue
        if obj.get("object_marking_refs") == refs:
            continue
        obj["object_marking_refs"] = refs
        obj["modified"] = stamp
        out.append(obj)
    if len(out) > len(new):
        _store(node, out)
    return len(out) - len(new)


def _event(node: Node, case_id: str, machine: str, actor: str, why: str, **detail: Any) -> str:
    """Record one transition (checked against the state machines first) and re-mark."""
    h = _held(node, case_id)
    st = _fold(h)
    stamp = _stamp(node)
    wire.apply(st, {"machine": machine, **detail}, stamp)  # raises if it does not apply
    refs, new = _markings_for(node, _fold(h))
    oid = node.new_id("note")
    obj = wire.event(case_id, oid, stamp, node.home_party.id, refs, machine=machine,
                     actor=actor, why=why, **detail)  # fmt: skip
    _store(node, [*new, obj])
    _remark(node, case_id)
    return oid


# --- acts ---------------------------------------------------------------------------------------


def create(
    node: Node,
    *,
    title: str,
    vulnerabilities: Sequence[wire.Vulnerability],
    reporter: str,
    coordinators: Sequence[str] = (),
    vendors: Sequence[wire.Vendor] = (),
    tlp: str = "amber",
    why: str = "",
) -> str:
    """Open a case coordinated by the home party (and any co-coordinators); its id."""
    if tlp not in TLP_MARKING_ID or tlp == "clear":
        raise InvalidInput(
            f"TLP {tlp!r}: a case is shared under green, amber, amber+strict or red",
            code="invalid-tlp",
        )
    if not vulnerabilities:
        raise InvalidInput("a case is about at least one vulnerability", code="invalid-case")
    for v in vulnerabilities:
        v.check()
    coord = sorted({node.home_party.id, *(parties.find(node, c).id for c in coordinators)})
    reporter_id = _party_or_name(node, reporter)
    vend = [
        wire.Vendor(v.name, parties.find(node, v.party).id if v.party else None, v.email, v.pgp)
        for v in vendors
    ]
    case_id = node.new_id("grouping")
    stamp = _stamp(node)
    vuln_ids = [node.new_id("vulnerability") for _ in vulnerabilities]
    st = wire.CaseState(case_id, title, tlp, node.home_party.id, reporter_id, tuple(coord), ())
    refs, new = _markings_for(node, st)
    objs = [
        *new,
        wire.case(case_id, stamp, node.home_party.id, refs, title=title, reporter=reporter_id,
                  coordinators=coord, vendors=vend, vulnerabilities=vuln_ids, tlp=tlp),
        *(wire.vulnerability(case_id, vid, v, stamp, node.home_party.id, refs)
          for vid, v in zip(vuln_ids, vulnerabilities, strict=True)),
        wire.event(case_id, node.new_id("note"), stamp, node.home_party.id, refs,
                   machine="report", actor=reporter_id, why=why or "report received",
                   to="received", initial=True),
    ]  # fmt: skip
    _store(node, objs)
    return case_id


def _party_or_name(node: Node, ref: str) -> str:
    try:
        return parties.find(node, ref).id
    except (NotFound, InvalidInput):
        if not ref.strip():
            raise InvalidInput("a case needs a reporter", code="invalid-case") from None
        return ref.strip()  # an external reporter, recorded by name


def report(node: Node, case_id: str, to: str, why: str) -> str:
    """Move the report (Vultron RM): valid, invalid, accepted, deferred, closed."""
    return _event(node, case_id, "report", node.home_party.id, why, to=to)


def invite(node: Node, case_id: str, party: str, why: str = "") -> str:
    """Invite a party to the case (and its embargo). It sees nothing of the case but the
    invitation until it accepts."""
    p = parties.find(node, party)
    st = show(node, case_id)
    if p.id in st.members:
        raise InvalidInput(f"{p.name} is already a participant", code="already-participant")
    _event(node, case_id, "participant", node.home_party.id, why, party=p.id, to="invited")
    mid = wire.derived_id("marking-definition", case_id, node.home_party.id, "invite", p.id)
    marking = handling_marking(mid, _stamp(node), node.home_party.id,
                               recipients=[node.home_party.id, p.id],
                               name="CVD invitation")  # fmt: skip
    until = st.embargo_until if st.embargoed else st.proposed_until
    note = {
        "type": "note", "spec_version": "2.1", "id": node.new_id("note"),
        "created": _stamp(node), "modified": _stamp(node),
        "created_by_ref": node.home_party.id,
        "object_marking_refs": [TLP_MARKING_ID["amber"], mid],
        "abstract": "invitation to a coordinated vulnerability disclosure case",
        "content": why or "You are invited to a coordinated vulnerability disclosure case "
                   "under embargo. Accept to receive it.",
        "object_refs": [p.id],
        "extensions": {wire.CVD_EXTENSION: {"extension_type": "property-extension",
                                            "role": "invitation", "case": case_id,
                                            "embargo_until": until or ""}},
    }  # fmt: skip
    _store(node, [marking, note])
    return str(note["id"])


def respond(node: Node, case_id: str, party: Party, accept: bool, why: str = "") -> str:
    """An invited party accepts (becomes a signatory) or declines. A party that was not
    invited gets the unknown-case answer."""
    h = _held(node, case_id)
    st = _fold(h)
    if st.participants.get(party.id) != "invited":
        if party.id in st.members:
            raise InvalidInput(f"{party.name} is already a participant", code="already-participant")
        raise no_such_case(case_id)
    return _event(node, case_id, "participant", party.id, why, party=party.id,
                  to="signatory" if accept else "declined")  # fmt: skip


def _policy(node: Node, st: wire.CaseState) -> DisclosurePolicy | None:
    """The disclosure policy of an active agreement that includes every coordinator."""
    now = node.now()
    for a in node_state.current(node).agreements:
        if a.disclosure is None or a.inactive_reason(now) is not None:
            continue
        if set(st.coordinators) <= a.party_ids:
            return a.disclosure
    return None


def embargo_propose(
    node: Node, case_id: str, *, days: int | None = None, until: str | None = None, why: str = ""
) -> str:
    st = show(node, case_id)
    policy = _policy(node, st)
    if until is not None:
        end = parse_timestamp(until)
    else:
        n = (
            days
            if days is not None
            else (policy.default_embargo_days if policy else DEFAULT_EMBARGO_DAYS)
        )
        end = node.now() + n * DAY_US
    if end <= node.now():
        raise InvalidInput("an embargo must end in the future", code="invalid-embargo")
    if policy and policy.max_embargo_days and end - node.now() > policy.max_embargo_days * DAY_US:
        raise InvalidInput(
            f"the disclosure policy allows at most {policy.max_embargo_days} days of embargo",
            code="invalid-embargo",
        )
    return _event(node, case_id, "embargo", node.home_party.id, why, action="propose",
                  until=format_timestamp(end))  # fmt: skip


def embargo_accept(node: Node, case_id: str, why: str = "") -> str:
    return _event(node, case_id, "embargo", node.home_party.id, why, action="accept")


def embargo_reject(node: Node, case_id: str, why: str = "") -> str:
    return _event(node, case_id, "embargo", node.home_party.id, why, action="reject")


def embargo_exit(node: Node, case_id: str, why: str, reason: str = "ended") -> list[str]:
    """End the embargo now; every member is told (the exit event is marked for them all).
    The names of the parties told."""
    st = show(node, case_id)
    _event(node, case_id, "embargo", node.home_party.id, why, action="exit", reason=reason)
    return sorted(_names(node, st.members))


def _names(node: Node, ids: Sequence[str] | frozenset[str]) -> list[str]:
    known = node_state.current(node).parties
    return [known[i].name if i in known else i for i in ids]


def case_status(node: Node, case_id: str, flag: str, why: str) -> list[str]:
    """Set a Vultron case state (vendor-aware, fix-ready, …). Exploit public, attacks observed
    or public end an active embargo at once (one command tells every participant): the
    names of the parties told, empty when no embargo ended."""
    st = show(node, case_id)
    _event(node, case_id, "case", node.home_party.id, why, flag=flag)
    if flag in states.EARLY_EXIT and st.embargoed:
        return embargo_exit(node, case_id, why or flag, reason=flag)
    return []


def vendor_status(
    node: Node,
    case_id: str,
    vendor: str,
    vulnerability: str,
    status: str,
    *,
    justification: str | None = None,
    impact: str | None = None,
    why: str = "",
    actor: Party | None = None,
) -> str:
    st = show(node, case_id)
    if vendor not in {v["name"] for v in st.vendors}:
        raise InvalidInput(f"{vendor!r} is no vendor of this case", code="no-such-vendor")
    vid = _vuln(st, vulnerability)
    detail: dict[str, Any] = {"vendor": vendor, "vulnerability": vid, "status": status}
    if justification:
        detail["justification"] = justification
    if impact:
        detail["impact"] = impact
    return _event(node, case_id, "status", (actor or node.home_party).id, why, **detail)


def _vuln(st: wire.CaseState, ref: str) -> str:
    for vid, v in st.vulnerabilities.items():
        if ref in (vid, v["name"], *v["ids"].values()):
            return vid
    raise InvalidInput(f"{ref!r} is no vulnerability of this case", code="no-such-vulnerability")


def statement(
    node: Node, case_id: str, vendor: str, text: str, vulnerability: str | None = None
) -> str:
    """Draft a vendor statement (seen by the home party alone until shared)."""
    st = show(node, case_id)
    if vendor not in {v["name"] for v in st.vendors}:
        raise InvalidInput(f"{vendor!r} is no vendor of this case", code="no-such-vendor")
    vid = _vuln(st, vulnerability) if vulnerability else None
    refs, new = _private(node, case_id)
    stamp = _stamp(node)
    obj = wire.statement(case_id, node.new_id("note"), stamp, stamp, node.home_party.id, refs,
                         vendor=vendor, text=text, state="draft", vulnerability_id=vid)  # fmt: skip
    _store(node, [*new, obj])
    return str(obj["id"])


def statement_move(node: Node, case_id: str, statement_id: str, to: str) -> None:
    """draft → approved → shared (sharing marks it for every member of the case)."""
    h = _held(node, case_id)
    found = [v for v in h.members if v.id == statement_id and v.source == node.home_party.id]
    obj = orjson.loads(found[0].content) if found else None
    if obj is None or wire.role_of(obj) != "statement":
        raise InvalidInput(f"{statement_id!r} is no statement of this node in this case",
                           code="no-such-statement")  # fmt: skip
    now = wire.fields_of(obj)["state"]
    order = wire.STATEMENT_STATES
    if to not in order or order.index(to) != order.index(now) + 1:
        raise InvalidInput(f"a statement {now} cannot become {to}", code="invalid-transition")
    refs, new = _markings_for(node, _fold(h)) if to == "shared" else _private(node, case_id)
    obj["extensions"][wire.CVD_EXTENSION]["state"] = to
    obj["abstract"] = f"vendor statement ({to})"
    obj["object_marking_refs"] = refs
    obj["modified"] = _stamp(node)
    _store(node, [*new, obj])


# --- SSVC and CVSS ------------------------------------------------------------------------------


def ssvc_tables() -> dict[str, Table]:
    """The official SSVC tables shipped with kizuna (CERTCC/SSVC data/csv, MIT (SEI) licence)."""
    folder = resources.files("kizuna") / "data" / "ssvc"
    out = {}
    for f in folder.iterdir():
        if f.name.endswith(".csv"):
            t = parse_table(f.name[:-4], f.read_text(encoding="utf-8"))
            out[t.name] = t
    return out


def ssvc(
    node: Node, case_id: str, table: str, inputs: Mapping[str, str], why: str = ""
) -> dict[str, Any]:
    tables = ssvc_tables()
    if table not in tables:
        raise InvalidInput(f"SSVC table {table!r} is unknown; one of {', '.join(sorted(tables))}",
                           code="invalid-ssvc")  # fmt: skip
    decision = tables[table].decide(inputs).to_dict()
    _event(node, case_id, "ssvc", node.home_party.id, why, decision=decision)
    return decision


def cvss_score(vector: str) -> dict[str, Any]:
    """Parse and score a CVSS 3.1 or 4.0 vector with the ``cvss`` package."""
    from cvss import CVSS3, CVSS4  # type: ignore[import-untyped]
    from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

    try:
        if vector.startswith("CVSS:4.0/"):
            c4 = CVSS4(vector)
            return {
                "version": "4.0",
                "vector": c4.clean_vector(),
                "base_score": float(c4.base_score),
                "severity": str(c4.severity),
            }
        if vector.startswith("CVSS:3.1/"):
            c3 = CVSS3(vector)
            return {
                "version": "3.1",
                "vector": c3.clean_vector(),
                "base_score": float(c3.base_score),
                "severity": str(c3.severities()[0]),
            }
    except CVSSError as exc:
        raise InvalidInput(f"CVSS vector {vector!r}: {exc}", code="invalid-cvss") from exc
    raise InvalidInput(f"CVSS vector {vector!r}: kizuna scores CVSS:3.1/ and CVSS:4.0/ vectors",
                       code="invalid-cvss")  # fmt: skip


def cvss(
    node: Node, case_id: str, vulnerability: str, vector: str, why: str = ""
) -> dict[str, Any]:
    st = show(node, case_id)
    vid = _vuln(st, vulnerability)
    score = cvss_score(vector)
    _event(node, case_id, "cvss", node.home_party.id, why, vulnerability=vid, **score)
    return score


def handling_of(node: Node, object_id: str) -> Handling:
    """The handling stored with the newest version of an object (for explanations and tests)."""
    with node.db.read() as conn:
        v = store.latest(conn, [object_id])[object_id]
    return Handling.from_json(v.handling)


# --- advisories ---------------------------------------------------------------------------------


def _cwe_names(ids: set[str]) -> dict[str, str]:
    """MITRE's exact CWE names, from the CWE catalogue the ``csaf`` validator ships."""
    if not ids:
        return {}
    try:
        raw = (resources.files("csaf") / "csaf" / "v21" / "cwe" / "catalog.json").read_bytes()
        weaknesses = orjson.loads(raw)["weaknesses"]
    except (OSError, KeyError, ValueError, ModuleNotFoundError):
        return {}
    out = {}
    for cwe in ids:
        entry = weaknesses.get(cwe.removeprefix("CWE-"))
        if entry and entry.get("history"):
            out[cwe] = str(entry["history"][-1][1])
    return out


def advisory(
    node: Node,
    case_id: str,
    *,
    vex: bool = False,
    draft: bool = False,
    summary: str = "",
    namespace: str | None = None,
) -> dict[str, Any]:
    """A CSAF 2.0 security advisory (or VEX document) of the case, written by ``core.csaf``.

    A final advisory (TLP:CLEAR) only once no embargo is active; ``draft`` writes one for the
    case's members under the case's TLP. Each final advisory is a revision, recorded as an event.
    """
    from kizuna.core.csaf import Publisher, Revision
    from kizuna.core.csaf.writer import write_advisory, write_vex
    from kizuna.core.cvd.advisory import revision_dates, to_advisory

    st = show(node, case_id)
    if st.embargoed and not draft:
        raise InvalidInput(
            f"the embargo is active until {st.embargo_until}: publish after it ends "
            "(or end it with `kizuna cvd embargo exit`), or write a --draft for the members",
            code="embargo-active",
        )
    policy = _policy(node, st)
    if policy and policy.publisher == "coordinator" and node.home_party.id not in st.coordinators:
        raise InvalidInput(
            "the disclosure policy lets only the case's coordinators publish", code="not-publisher"
        )
    names = {i: p.name for i, p in node_state.current(node).parties.items()}
    now = dt_from_us(node.now())
    kind = "vex" if vex else "advisory"
    done = [(a["summary"], dt_from_us(parse_timestamp(a["at"]))) for a in st.advisories
            if a["kind"] == kind and a["status"] == "final"]  # fmt: skip
    text = summary or ("Initial release" if not done else "Update")
    if draft:  # CSAF 6.1.17: a draft is version 0
        revisions: tuple[Revision, ...] = (
            Revision("0", now, summary or "Draft for the case's members"),
        )
    else:
        revisions = revision_dates([*done, (text, now)])
    ns = namespace or f"https://{node.home_party.name.lower().replace(' ', '-')}.kizuna.invalid"
    cwes = {v["ids"]["cwe"] for v in st.vulnerabilities.values() if "cwe" in v["ids"]}
    model = to_advisory(
        st,
        publisher=Publisher(node.home_party.name, ns, "coordinator"),
        revisions=revisions,
        tlp=st.tlp if draft else "clear",
        status="draft" if draft else "final",
        cwe_names=_cwe_names(cwes),
        names=names,
    )
    doc = write_vex(model, generated=now) if vex else write_advisory(model, generated=now)
    if not draft:
        _event(node, case_id, "advisory", node.home_party.id, text, summary=text, kind=kind,
               status="final")  # fmt: skip
    return doc


def dt_from_us(us: int) -> Any:
    import datetime as dt

    return dt.datetime.fromtimestamp(us / 1_000_000, tz=dt.UTC)
