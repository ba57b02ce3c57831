"""The JSON API of the trust framework: agreements, consents, explain, preview, audit."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kizuna.core.agreements import Agreement
from kizuna.core.consents import CONSENT_TYPE
from kizuna.core.parties import Party
from kizuna.core.policy import RULE_NAMES, Decision
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import looks_like_id
from kizuna.errors import Forbidden, InvalidJson, NotFound
from kizuna.http.api import json, require_home
from kizuna.http.auth import caller
from kizuna.http.body import read_json
from kizuna.services import agreement_lifecycle, ingest, parties
from kizuna.services import agreements as agreement_service
from kizuna.services import consents as consent_service
from kizuna.services import explain as explain_service
from kizuna.services import ledger as ledger_service
from kizuna.services.node import Node
from kizuna.storage import objects as store

router = APIRouter(prefix="/api", tags=["trust framework"])
Caller = Annotated[Party, Depends(caller)]


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def agreement_out(
    a: Agreement, now: int, notices: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "id": a.id,
        "version": a.version,
        "title": a.title,
        "state": a.state,
        "in_force": a.inactive_reason(now) is None,
        "why_not_in_force": a.inactive_reason(now),
        "parties": [p.id for p in a.parties],
        "signed_by": sorted(a.signed_by),
        "document": a.document,
        # Signed suspensions, resumptions, terminations of this version (they travel with it).
        "notices": notices or [],
    }


def decision_out(d: Decision) -> dict[str, Any]:
    refusal = d.refusal
    return {
        "outcome": d.outcome,
        "agreement": d.agreement,
        "level": {"scheme": d.level.scheme, "level": d.level.level} if d.level else None,
        "refused_by": {"rule": refusal.rule, "code": refusal.code, "reason": refusal.sentence}
        if refusal
        else None,
        "verdicts": [
            {
                "rule": v.rule,
                "name": RULE_NAMES[v.rule],
                "code": v.code,
                "passed": v.passed,
                "reason": v.sentence,
            }
            for v in d.verdicts
        ],
    }


class AgreementOut(BaseModel):
    id: str
    version: int
    title: str
    state: str
    in_force: bool
    why_not_in_force: str | None
    parties: list[str]
    signed_by: list[str]
    document: dict[str, Any]
    notices: list[dict[str, Any]] = []


@router.get("/agreements", response_model=list[AgreementOut], summary="Agreements you are party to")
def list_agreements(request: Request, party: Caller) -> Response:
    node = _node(request)
    now = node.now()
    # Per agreement, the newest version that names the caller (every version for home).
    rows = agreement_service.list_all(node, party)
    return json(
        [
            agreement_out(s.agreement, now, agreement_lifecycle.notices_of(node, s.agreement))
            for s in rows
        ]
    )


@router.get(
    "/agreements/{agreement_id}",
    response_model=list[AgreementOut],
    summary="Every version of an agreement",
)
def agreement_history(request: Request, agreement_id: str, party: Caller) -> Response:
    node = _node(request)
    # Only the versions that name the caller; none, or no such agreement: one answer.
    versions = agreement_service.history_for(node, agreement_id, party)
    now = node.now()
    return json([agreement_out(s.agreement, now) for s in versions])


@router.post(
    "/agreements",
    response_model=AgreementOut,
    summary="Import an agreement document (signatures merge)",
)
async def post_agreement(request: Request, party: Caller) -> Response:
    node = _node(request)
    document = await read_json(request, node.settings()["max_content_length"])
    if not isinstance(document, dict):
        raise InvalidJson("the request body must be one agreement document")
    # A partner adds only to agreements it is in, and gets one answer for all others.
    stored = await run_in_threadpool(
        functools.partial(agreement_service.add, node, document, submitter=party, path="api")
    )
    return json(agreement_out(stored, node.now()))


@router.post(
    "/agreements/{agreement_id}/{action}",
    response_model=AgreementOut,
    summary="Suspend, resume or terminate",
)
def agreement_action(request: Request, agreement_id: str, action: str, party: Caller) -> Response:
    node = _node(request)
    require_home(node, party)
    if action not in ("suspend", "resume", "terminate"):
        raise NotFound(f"no action {action!r}; use suspend, resume or terminate")
    return json(agreement_out(agreement_service.transition(node, agreement_id, action), node.now()))


@router.get("/consents", summary="Consents you granted (all of them, for the home party)")
def list_consents(request: Request, party: Caller) -> Response:
    node = _node(request)
    everyone = consent_service.list_consents(node)
    if party.id != node.home_party.id:
        # Only one's own: a consent names objects its recipients may not see yet (rule 7).
        everyone = [c for c in everyone if c.originator == party.id]
    states = consent_service.states(node, everyone, party)
    return json(
        [
            {
                "id": c.id,
                "originator": c.originator,
                "objects": sorted(c.objects),
                "types": sorted(c.types),
                "parties": sorted(c.parties),
                "agreements": sorted(c.agreements),
                "expires": format_timestamp(c.expires_us),
                "revoked": c.revoked,
                "state": states[c.id],
            }
            for c in everyone
        ]
    )


@router.post("/consents", summary="Submit a consent object you signed (x-kizuna-consent)")
async def post_consent(request: Request, party: Caller) -> Response:
    node = _node(request)
    obj = await read_json(request, node.settings()["max_content_length"])
    if not isinstance(obj, dict) or obj.get("type") != CONSENT_TYPE:
        raise InvalidJson(f"the request body must be one {CONSENT_TYPE} object")
    if obj.get("created_by_ref") != party.id:
        raise Forbidden("you may only submit your own consents")
    refs = obj.get("object_refs") or []
    consent_service.check_submitted(node, party, [r for r in refs if isinstance(r, str)])
    outcome = (await run_in_threadpool(ingest.ingest, node, [obj], submitter=party, path="api"))[0]
    if outcome.error is not None:
        raise outcome.error
    return json(
        {"id": outcome.id, "status": outcome.status}, 201 if outcome.status == "stored" else 200
    )


def _may_explain(node: Node, party: Party, object_id: str) -> None:
    """The home party explains anything; an originator only its own objects."""
    if not looks_like_id(object_id):
        raise NotFound(f"there is no object {object_id!r}: that is not a STIX identifier")
    if party.id == node.home_party.id:
        return
    with node.db.read() as conn:
        held = store.latest(conn, [object_id]).get(object_id)
    if held is None or held.source != party.id:
        raise NotFound(f"no object {object_id} of yours")


@router.get("/explain", summary="Why an object would or would not go to a party, rule by rule")
def explain(
    request: Request,
    party: Caller,
    object: Annotated[str, Query(description="object id")],
    to: Annotated[str, Query(description="party name or id")],
) -> Response:
    node = _node(request)
    _may_explain(node, party, object)
    recipient = parties.find(node, to)
    return json(
        [
            {
                "id": e.version.id,
                "version": format_timestamp(e.version.modified),
                "released_id": e.released_id,
                **decision_out(e.decision),
            }
            for e in explain_service.explain(node, object, recipient, asker=party)
        ]
    )


@router.get("/preview", summary="Exactly what a party would receive now")
def preview(
    request: Request,
    party: Caller,
    to: Annotated[str, Query(description="party name or id")],
    withheld: Annotated[bool, Query(description="also list withheld objects")] = False,
) -> Response:
    node = _node(request)
    require_home(node, party)
    recipient = parties.find(node, to)
    return json(
        [
            {
                "id": e.version.id,
                "released_id": e.released_id,
                "type": e.version.type,
                **decision_out(e.decision),
            }
            for e in explain_service.preview(node, recipient, include_withheld=withheld)
        ]
    )


AUDIT_PAGE = 1000
AUDIT_PAGE_MAX = 10_000


@router.get("/audit", summary="Ledger entries: where did an object go?")
def audit(
    request: Request,
    party: Caller,
    object: Annotated[str | None, Query(description="object (or derivative) id")] = None,
    limit: Annotated[
        int, Query(ge=1, le=AUDIT_PAGE_MAX, description="entries per page (at most 10,000)")
    ] = AUDIT_PAGE,
    after: Annotated[
        int, Query(ge=0, description="the page after this sequence number (Kizuna-Next-After)")
    ] = 0,
) -> Response:
    """A page of ledger entries in sequence order; the header ``Kizuna-Next-After`` names the
    ``after`` of the next page while there is one."""
    node = _node(request)
    if object is not None or party.id != node.home_party.id:
        if object is None:
            raise Forbidden("name the object (?object=ID) whose releases you want to see")
        _may_explain(node, party, object)
    page = ledger_service.show(node, object, after, limit + 1)
    more, page = len(page) > limit, page[:limit]
    answer = json(
        [
            {
                "seq": e.seq,
                "time": format_timestamp(e.time_us),
                "recipient": e.recipient,
                "object_id": e.object_id,
                "version": format_timestamp(e.object_modified),
                "released_id": e.released_id,
                "released_digest": e.released_digest,
                "outcome": e.outcome,
                "agreement": e.agreement,
                "rules": [int(r) for r in e.rules.split(",") if r],
                "hash": e.hash,
            }
            for e in page
        ]
    )
    if more:
        answer.headers["Kizuna-Next-After"] = str(page[-1].seq)
    return answer


@router.get(
    "/audit/verify",
    summary="Verify the ledger's hash chain, checkpoints and the heads kept outside the database",
)
def audit_verify(request: Request, party: Caller) -> Response:
    node = _node(request)
    require_home(node, party)
    result = ledger_service.verify(node)
    head = result.vouched.head
    return json(
        {
            "intact": result.intact,
            "entries": result.entries,
            "checkpoints": result.checkpoints,
            # How far the signed heads kept outside the database vouch against truncation.
            "vouched_up_to": (
                {"entry": head.seq, "signed": format_timestamp(head.time_us)} if head else None
            ),
            "unvouched_entries": result.vouched.unvouched,
            "problems": [{"seq": p.seq, "message": p.message} for p in result.problems],
        }
    )
