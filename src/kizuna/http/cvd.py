"""The JSON API of coordinated vulnerability disclosure (docs/cvd.md).

A party reads a case through the gate; a case it may not see answers exactly as an unknown one
(404 ``no-such-case``), for reads and for acts alike. The home party's users run the case; an
invited partner accepts or declines itself; a vendor that is a party records its own VEX status.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kizuna.core.cvd.case import Product, Vendor, Vulnerability
from kizuna.core.parties import Party
from kizuna.errors import Forbidden, InvalidJson
from kizuna.http.api import json, require_home
from kizuna.http.auth import caller
from kizuna.http.body import read_json
from kizuna.services import cvd
from kizuna.services.node import Node

router = APIRouter(prefix="/api/cvd", tags=["coordinated vulnerability disclosure"])
Caller = Annotated[Party, Depends(caller)]


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


class ProductIn(BaseModel):
    vendor: str
    name: str
    version: str | None = None
    version_range: str | None = Field(None, description="a vers: range, e.g. vers:generic/<4.2")
    cpe: str | None = None
    purl: str | None = None


class VulnerabilityIn(BaseModel):
    title: str
    cve: str | None = None
    euvd: str | None = None
    jvn: str | None = None
    cwe: str | None = None
    description: str = ""
    products: list[ProductIn] = []


class VendorIn(BaseModel):
    name: str
    party: str | None = Field(None, description="the vendor's party (name or id), if any")
    email: str | None = None
    pgp: str | None = Field(None, description="PGP key fingerprint (recorded only)")


class CaseIn(BaseModel):
    title: str
    reporter: str = Field(description="a party (name or id) or an external reporter's name")
    coordinators: list[str] = Field([], description="co-coordinators besides the home party")
    vendors: list[VendorIn] = []
    vulnerabilities: list[VulnerabilityIn]
    tlp: Literal["green", "amber", "amber+strict", "red"] = "amber"
    why: str = ""


class InviteIn(BaseModel):
    party: str
    why: str = ""


class StatusIn(BaseModel):
    state: str = Field(description="a report state (valid, invalid, accepted, deferred, closed) "
                       "or a case state (vendor-aware, fix-ready, fix-deployed, public, "
                       "exploit-public, attacks-observed)")  # fmt: skip
    why: str


class VexIn(BaseModel):
    vendor: str
    vulnerability: str
    status: Literal["under_investigation", "known_affected", "known_not_affected", "fixed"]
    justification: str | None = None
    impact: str | None = None
    why: str = ""


class ProposeIn(BaseModel):
    days: int | None = Field(None, ge=1, le=730)
    until: str | None = None
    why: str = ""


class WhyIn(BaseModel):
    why: str = ""


class ExitIn(BaseModel):
    reason: Literal["ended", "exploit-public", "attacks-observed", "public"] = "ended"
    why: str


class StatementIn(BaseModel):
    vendor: str
    text: str
    vulnerability: str | None = None


class StatementMoveIn(BaseModel):
    to: Literal["approved", "shared"]


class SsvcIn(BaseModel):
    table: str
    inputs: dict[str, str]
    why: str = ""


class CvssIn(BaseModel):
    vulnerability: str
    vector: str


class AdvisoryIn(BaseModel):
    vex: bool = False
    draft: bool = False
    summary: str = ""


M = TypeVar("M", bound=BaseModel)


async def _body(request: Request, model: type[M]) -> M:
    node = _node(request)
    data = await read_json(request, node.settings()["max_content_length"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        wrong = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidJson(f"{model.__name__.removesuffix('In').lower()}: {wrong}") from exc


def _doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _run(call: Callable[[], Any], status: int = 200) -> Response:
    out = await run_in_threadpool(call)
    return json(out if isinstance(out, dict | list) else {"id": out}, status)


@router.get("/cases", summary="The CVD cases you take part in")
async def list_cases(request: Request, party: Caller) -> Response:
    node = _node(request)
    found = await run_in_threadpool(cvd.list_cases, node, party)
    return json([{"id": c.id, "title": c.title, "report_state": c.report,
                  "embargo": c.embargo} for c in found])  # fmt: skip


@router.get("/cases/{case_id}", summary="A case as you may see it (through the gate)")
async def get_case(request: Request, case_id: str, party: Caller) -> Response:
    st = await run_in_threadpool(cvd.show, _node(request), case_id, party)
    return json(st.to_dict())


@router.post("/cases", status_code=201, summary="Open a case (home party)",
             openapi_extra=_doc(CaseIn))  # fmt: skip
async def post_case(request: Request, party: Caller) -> Response:
    node = _node(request)
    require_home(node, party)
    b = await _body(request, CaseIn)
    vulns = [
        Vulnerability(v.title, v.cve, v.euvd, v.jvn, v.cwe, v.description,
                      tuple(Product(**p.model_dump()) for p in v.products))
        for v in b.vulnerabilities
    ]  # fmt: skip
    vendors = [Vendor(v.name, v.party, v.email, v.pgp) for v in b.vendors]
    return await _run(
        functools.partial(cvd.create, node, title=b.title, vulnerabilities=vulns,
                          reporter=b.reporter, coordinators=b.coordinators, vendors=vendors,
                          tlp=b.tlp, why=b.why),
        201,
    )  # fmt: skip


def _home(request: Request, party: Party, case_id: str) -> Node:
    """The home party only; a partner that may not see the case gets the unknown-case answer
    (not 403), so an act reveals no more than a read."""
    node = _node(request)
    if party.id != node.home_party.id:
        cvd.show(node, case_id, party)  # raises no-such-case when hidden
        require_home(node, party)
    return node


@router.post("/cases/{case_id}/invite", summary="Invite a party", openapi_extra=_doc(InviteIn))
async def post_invite(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, InviteIn)
    return await _run(functools.partial(cvd.invite, node, case_id, b.party, b.why), 201)


@router.post("/cases/{case_id}/accept", summary="Accept an invitation (the invited party)",
             openapi_extra=_doc(WhyIn))  # fmt: skip
async def post_accept(request: Request, case_id: str, party: Caller) -> Response:
    b = await _body(request, WhyIn)
    return await _run(functools.partial(cvd.respond, _node(request), case_id, party, True, b.why))


@router.post("/cases/{case_id}/decline", summary="Decline an invitation (the invited party)",
             openapi_extra=_doc(WhyIn))  # fmt: skip
async def post_decline(request: Request, case_id: str, party: Caller) -> Response:
    b = await _body(request, WhyIn)
    return await _run(functools.partial(cvd.respond, _node(request), case_id, party, False, b.why))


@router.post("/cases/{case_id}/status", summary="Move the report or set a case state",
             openapi_extra=_doc(StatusIn))  # fmt: skip
async def post_status(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, StatusIn)
    from kizuna.core.cvd.states import RM_STATES

    if b.state in RM_STATES:
        return await _run(functools.partial(cvd.report, node, case_id, b.state, b.why))
    told = await run_in_threadpool(cvd.case_status, node, case_id, b.state, b.why)
    return json({"embargo_ended": bool(told), "told": told})


@router.post("/cases/{case_id}/vex", summary="Record a vendor's CSAF/VEX status (home party, "
             "or the vendor's own party)", openapi_extra=_doc(VexIn))  # fmt: skip
async def post_vex(request: Request, case_id: str, party: Caller) -> Response:
    node = _node(request)
    b = await _body(request, VexIn)
    if party.id != node.home_party.id:
        # A member vendor answers for itself; the act releases nothing, so membership is read
        # from the case's state (the vendor's node may hold none of it); others: unknown case.
        st = await run_in_threadpool(cvd.show, node, case_id)
        if party.id not in st.members:
            raise cvd.no_such_case(case_id)
        if not any(v.get("name") == b.vendor and v.get("party") == party.id for v in st.vendors):
            raise Forbidden("only the home party or the vendor itself records a vendor's status")
    return await _run(
        functools.partial(cvd.vendor_status, node, case_id, b.vendor, b.vulnerability, b.status,
                          justification=b.justification, impact=b.impact, why=b.why,
                          actor=party),
        201,
    )  # fmt: skip


@router.post("/cases/{case_id}/embargo/propose", summary="Propose an embargo or a revision",
             openapi_extra=_doc(ProposeIn))  # fmt: skip
async def post_propose(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, ProposeIn)
    return await _run(functools.partial(cvd.embargo_propose, node, case_id, days=b.days,
                                        until=b.until, why=b.why), 201)  # fmt: skip


@router.post("/cases/{case_id}/embargo/accept", summary="Accept the proposed embargo",
             openapi_extra=_doc(WhyIn))  # fmt: skip
async def post_embargo_accept(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, WhyIn)
    return await _run(functools.partial(cvd.embargo_accept, node, case_id, b.why), 201)


@router.post("/cases/{case_id}/embargo/exit", summary="End the embargo, telling every participant",
             openapi_extra=_doc(ExitIn))  # fmt: skip
async def post_exit(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, ExitIn)
    if b.reason == "ended":
        told = await run_in_threadpool(cvd.embargo_exit, node, case_id, b.why)
    else:
        told = await run_in_threadpool(cvd.case_status, node, case_id, b.reason, b.why)
    return json({"told": told})


@router.post("/cases/{case_id}/statements", summary="Draft a vendor statement",
             openapi_extra=_doc(StatementIn))  # fmt: skip
async def post_statement(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, StatementIn)
    return await _run(functools.partial(cvd.statement, node, case_id, b.vendor, b.text,
                                        b.vulnerability), 201)  # fmt: skip


@router.post(
    "/cases/{case_id}/statements/{statement_id}",
    summary="Approve, then share a statement",
    openapi_extra=_doc(StatementMoveIn),
)
async def post_statement_move(
    request: Request, case_id: str, statement_id: str, party: Caller
) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, StatementMoveIn)
    await run_in_threadpool(cvd.statement_move, node, case_id, statement_id, b.to)
    return json({"id": statement_id, "state": b.to})


@router.post("/cases/{case_id}/ssvc", summary="An SSVC decision from an official table",
             openapi_extra=_doc(SsvcIn))  # fmt: skip
async def post_ssvc(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, SsvcIn)
    return await _run(functools.partial(cvd.ssvc, node, case_id, b.table, b.inputs, b.why), 201)


@router.post("/cases/{case_id}/cvss", summary="Score a CVSS 3.1 or 4.0 vector",
             openapi_extra=_doc(CvssIn))  # fmt: skip
async def post_cvss(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, CvssIn)
    return await _run(functools.partial(cvd.cvss, node, case_id, b.vulnerability, b.vector), 201)


@router.post("/cases/{case_id}/advisory", summary="The case's CSAF 2.0 advisory or VEX",
             openapi_extra=_doc(AdvisoryIn))  # fmt: skip
async def post_advisory(request: Request, case_id: str, party: Caller) -> Response:
    node = await run_in_threadpool(_home, request, party, case_id)
    b = await _body(request, AdvisoryIn)
    return await _run(functools.partial(cvd.advisory, node, case_id, vex=b.vex, draft=b.draft,
                                        summary=b.summary))  # fmt: skip
