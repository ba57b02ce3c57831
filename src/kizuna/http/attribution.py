"""The JSON API of joint attribution: cases, hypotheses, evidence, ratings, assessments and the
joint picture. A party reads what the gate releases to it; a case it may not see answers exactly
as an unknown one (404 ``no-such-case``). Contributions are the home party's own (a partner
contributes on its own node, and its objects arrive by federation)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kizuna.core.attribution.joint import Assessment, JointPicture
from kizuna.core.parties import Party
from kizuna.errors import InvalidJson
from kizuna.http.api import json, require_home
from kizuna.http.auth import caller
from kizuna.http.body import read_json
from kizuna.services import attribution
from kizuna.services.node import Node

router = APIRouter(prefix="/api/attribution", tags=["joint attribution"])
Caller = Annotated[Party, Depends(caller)]


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _assessment(a: Assessment | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "scale": a.term.scale,
        "likelihood": a.term.words,
        "range": [a.term.low, a.term.high],
        "reads": a.describe(),
        "confidence": a.confidence,
        "rationale": a.rationale,
        "side": a.side,
    }


def picture_out(j: JointPicture) -> dict[str, Any]:
    """The joint picture as JSON: per hypothesis every partner side by side, never a mean."""
    return {
        "evidence_withheld_held_by_partners": j.withheld_held_by,
        "hypotheses": [
            {
                "hypothesis": {
                    "id": h.hypothesis.id,
                    "label": h.hypothesis.label,
                    "actor": h.hypothesis.actor,
                    "false_flag": h.hypothesis.false_flag,
                },
                "agreement": h.agreement,
                "sides": h.sides,
                "partners": [
                    {
                        "partner": p.partner,
                        "assessment": _assessment(p.assessment),
                        "ach": None
                        if p.score is None
                        else {"weighted": p.score, "plain": p.plain, "rank": p.rank},
                    }
                    for p in h.partners
                ],
                "divergent_evidence": [
                    {"evidence": d.evidence, "ratings": dict(d.ratings)} for d in h.divergences
                ],
            }
            for h in j.hypotheses
        ],
        "analyses": {
            partner: {
                "ranking": [sorted(t) for t in a.ranking],
                "diagnosticity": [
                    {"evidence": d.evidence, "plain": d.plain, "weighted": d.weighted,
                     "diagnostic": d.diagnostic} for d in a.diagnosticity
                ],
                "sensitive_evidence": [
                    {"evidence": s.evidence, "changes_leader": s.changes_leader}
                    for s in a.sensitivity if s.changes_ranking
                ],
            }
            for partner, a in sorted(j.analyses.items())
        },
    }  # fmt: skip


@router.get("/cases", summary="The attribution cases you take part in")
def list_cases(request: Request, party: Caller) -> Response:
    node = _node(request)
    return json([{"id": c["id"], "name": c.get("name")} for c in attribution.cases(node, party)])


@router.get("/cases/{case_id}", summary="A case and its joint picture, as you may see them")
def get_case(request: Request, case_id: str, party: Caller) -> Response:
    v = attribution.view(_node(request), case_id, party)
    return json({"case": v.case, **picture_out(v.joint)})


class CaseIn(BaseModel):
    name: str
    about: list[str] = Field(description="campaign, intrusion-set, incident or report ids")
    participants: list[str] = Field(description="party names or ids (the home party is one)")
    tlp: Literal["green", "amber", "amber+strict", "red"] = "amber"


class HypothesisIn(BaseModel):
    actor: str | None = Field(None, description="intrusion-set or threat-actor id; none: unknown")
    false_flag: bool = False
    name: str = ""


class EvidenceIn(BaseModel):
    grade: str = Field(description="Admiralty grade, e.g. B2")
    kind: str = Field(description="technical, infrastructure, behavioural, linguistic, "
                      "geopolitical, human-source-exists")  # fmt: skip
    refs: list[str] = []
    summary: str = ""


class RatingsIn(BaseModel):
    evidence: str
    ratings: dict[str, str] = Field(description="hypothesis id -> CC, C, N, I, II or NA")
    relevance: Literal["low", "medium", "high"] = "medium"


class AssessmentIn(BaseModel):
    hypothesis: str
    scale: Literal["icd-203", "phia"]
    likelihood: str
    confidence: Literal["low", "moderate", "high"]
    rationale: str


M = TypeVar("M", bound=BaseModel)


async def _body(request: Request, party: Party, model: type[M]) -> M:
    """The home party's request body, read within the node's limits and checked by ``model``;
    a partner gets 403 before its body is read."""
    node = _node(request)
    require_home(node, party)
    data = await read_json(request, node.settings()["max_content_length"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        wrong = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidJson(f"{model.__name__.removesuffix('In').lower()}: {wrong}") from exc


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _created(call: Callable[[], str]) -> Response:
    return json({"id": await run_in_threadpool(call)}, 201)


@router.post(
    "/cases", status_code=201, summary="Open a case (home party)", openapi_extra=_documented(CaseIn)
)
async def post_case(request: Request, party: Caller) -> Response:
    b = await _body(request, party, CaseIn)
    node = _node(request)
    return await _created(
        functools.partial(attribution.open_case, node, b.name, b.about, b.participants, b.tlp)
    )


@router.post(
    "/cases/{case_id}/hypotheses",
    status_code=201,
    summary="Add a hypothesis",
    openapi_extra=_documented(HypothesisIn),
)
async def post_hypothesis(request: Request, case_id: str, party: Caller) -> Response:
    b = await _body(request, party, HypothesisIn)
    return await _created(
        functools.partial(
            attribution.add_hypothesis,
            _node(request),
            case_id,
            b.actor,
            false_flag=b.false_flag,
            name=b.name,
        )
    )


@router.post(
    "/cases/{case_id}/evidence",
    status_code=201,
    summary="Add a graded evidence item",
    openapi_extra=_documented(EvidenceIn),
)
async def post_evidence(request: Request, case_id: str, party: Caller) -> Response:
    b = await _body(request, party, EvidenceIn)
    return await _created(
        functools.partial(
            attribution.add_evidence, _node(request), case_id, b.grade, b.kind, b.refs, b.summary
        )
    )


@router.post(
    "/cases/{case_id}/ratings",
    status_code=201,
    summary="Rate an item (ACH)",
    openapi_extra=_documented(RatingsIn),
)
async def post_ratings(request: Request, case_id: str, party: Caller) -> Response:
    b = await _body(request, party, RatingsIn)
    return await _created(
        functools.partial(
            attribution.rate, _node(request), case_id, b.evidence, b.ratings, b.relevance
        )
    )


@router.post(
    "/cases/{case_id}/assessments",
    status_code=201,
    summary="Assess a hypothesis",
    openapi_extra=_documented(AssessmentIn),
)
async def post_assessment(request: Request, case_id: str, party: Caller) -> Response:
    b = await _body(request, party, AssessmentIn)
    return await _created(
        functools.partial(
            attribution.assess,
            _node(request),
            case_id,
            b.hypothesis,
            b.scale,
            b.likelihood,
            b.confidence,
            b.rationale,
        )
    )


class StatementIn(BaseModel):
    text: str
    actor: str = Field(description="the attributed intrusion-set or threat-actor id")
    subject: str = Field(description="the campaign, intrusion-set, incident or report attributed")
    scale: Literal["icd-203", "phia"]
    likelihood: str
    confidence: Literal["low", "moderate", "high"]
    invited: list[str] = Field(description="participants invited to sign (names or ids)")
    release_at: str = Field(description="the joint release time (RFC 3339, UTC)")


class DecisionIn(BaseModel):
    decision: Literal["sign", "variant", "abstain"]
    variant: str = ""


@router.post(
    "/cases/{case_id}/statements",
    status_code=201,
    summary="Draft a joint statement",
    openapi_extra=_documented(StatementIn),
)
async def post_statement(request: Request, case_id: str, party: Caller) -> Response:
    b = await _body(request, party, StatementIn)
    return await _created(
        functools.partial(
            attribution.draft_statement,
            _node(request),
            case_id,
            b.text,
            b.actor,
            b.subject,
            b.scale,
            b.likelihood,
            b.confidence,
            b.invited,
            b.release_at,
        )
    )


@router.post(
    "/statements/{statement_id}/decision",
    status_code=201,
    summary="The home party's decision: sign, variant or abstain",
    openapi_extra=_documented(DecisionIn),
)
async def post_decision(request: Request, statement_id: str, party: Caller) -> Response:
    b = await _body(request, party, DecisionIn)
    return await _created(
        functools.partial(attribution.sign, _node(request), statement_id, b.decision, b.variant)
    )


@router.post(
    "/statements/{statement_id}/release",
    summary="Publish for the signatories; the gate holds it until the release time",
)
async def post_release(request: Request, statement_id: str, party: Caller) -> Response:
    node = _node(request)
    require_home(node, party)
    out = await run_in_threadpool(attribution.release, node, statement_id)
    return json(
        {
            "ids": list(out.ids),
            "signatories": list(out.signatories),
            "abstained": list(out.abstained),
            "undecided": list(out.undecided),
            "release_at": out.release_at,
        }
    )
