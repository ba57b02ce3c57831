"""The JSON API (OpenAPI at /api/openapi.json): node, parties, objects, export."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kizuna import __version__
from kizuna.core import taxii as core_taxii
from kizuna.core.parties import Party
from kizuna.core.taxii import Filters
from kizuna.errors import Forbidden, NotFound
from kizuna.http.auth import caller
from kizuna.http.body import read_json
from kizuna.services import export, importer, parties, taxii
from kizuna.services.node import Node

router = APIRouter(prefix="/api", tags=["JSON API"])
Caller = Annotated[Party, Depends(caller)]


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status, media_type="application/json")


def require_home(node: Node, party: Party) -> None:
    """Administration is for the home party's own users."""
    if party.id != node.home_party.id:
        raise Forbidden("only the home party's users may do this")


class PartyOut(BaseModel):
    id: str
    name: str
    jurisdiction: str
    kind: str
    scheme: str | None
    sector: str | None
    is_home: bool
    is_client: bool
    public_keys: list[str]


def party_out(p: Party) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "jurisdiction": p.jurisdiction,
        "kind": p.kind,
        "scheme": p.scheme,
        "sector": p.sector,
        "is_home": p.is_home,
        "is_client": p.is_client,
        "public_keys": list(p.public_keys),
    }


class NodeOut(BaseModel):
    version: str
    home_party: PartyOut
    you: PartyOut
    taxii_api_root: str


@router.get("/node", response_model=NodeOut, summary="This node and who you are")
def node_info(request: Request, party: Caller) -> Response:
    node = _node(request)
    return json(
        {
            "version": __version__,
            "home_party": party_out(node.home_party),
            "you": party_out(party),
            "taxii_api_root": str(request.base_url).rstrip("/") + "/taxii2/root/",
        }
    )


@router.get("/parties", response_model=list[PartyOut], summary="Parties this node knows")
def list_parties(request: Request, party: Caller) -> Response:
    return json([party_out(p) for p in parties.all_parties(_node(request))])


class ObjectsOut(BaseModel):
    objects: list[dict[str, Any]]
    more: bool
    next: str | None


@router.get("/objects", response_model=ObjectsOut, summary="Objects released to you")
def list_objects(
    request: Request,
    party: Caller,
    type: Annotated[list[str] | None, Query(description="STIX types to include")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next: Annotated[str | None, Query(description="cursor from the previous page")] = None,
) -> Response:
    node = _node(request)
    query = core_taxii.Query(
        Filters(types=core_taxii.check_types(type or ()), spec_versions=("2.1",)),
        None,
        limit,
        core_taxii.decode_cursor(next) if next else None,
    )
    p = taxii.page(node, party, query.filters, query)
    body = b'{"objects":[' + b",".join(r.content for r in p.releases) + b"]"
    body += b',"more":' + (b"true" if p.more else b"false")
    body += b',"next":' + orjson.dumps(p.next) + b"}"
    return Response(body, media_type="application/json")


@router.get("/objects/{object_id}", summary="The latest version of one object, if released to you")
def get_object(request: Request, object_id: str, party: Caller) -> Response:
    node = _node(request)
    filters = taxii.object_filters(node, party, object_id, Filters(spec_versions=("2.1",)))
    p = taxii.page(node, party, filters, core_taxii.Query(filters, None, 1, None))
    if not p.releases:
        raise NotFound(f"no object {object_id} for you")
    return Response(p.releases[0].content, media_type="application/json")


class IngestOut(BaseModel):
    stored: int
    unchanged: int
    failed: list[dict[str, Any]]


@router.post(
    "/objects", response_model=IngestOut, summary="Submit a STIX 2.1 bundle of your own objects"
)
async def post_objects(request: Request, party: Caller) -> Response:
    node = _node(request)
    document = await read_json(request, node.settings()["max_content_length"])
    objects = importer.objects_of(document, "request body")
    report = await run_in_threadpool(importer.ingest_objects, node, party, objects, "api")
    return json(report.summary())


@router.get(
    "/export",
    summary="A party's export: a release to the caller, or the home's preview for a party",
    description=(
        "Without `to` (or `to` naming the caller): everything the gate releases to the caller, "
        "as one STIX bundle; this is a release: sealed and written to the ledger, as a TAXII "
        "read is. With `to=PARTY` (home party only): a preview of what PARTY would receive, "
        "built by the same gate but neither sealed nor recorded, since nothing reaches PARTY; "
        "the response says which in its `Kizuna-Export` header (`release` or `preview`). To "
        "hand a party its objects, release them to it (`kizuna export --to PARTY`, or its own "
        "TAXII reads)."
    ),
)
def export_bundle(
    request: Request,
    party: Caller,
    to: Annotated[str | None, Query(description="party name or id (home party only)")] = None,
) -> Response:
    node = _node(request)
    recipient = party
    if to is not None:
        target = parties.find(node, to)
        if target.id != party.id:
            require_home(node, party)
        recipient = target
    preview = recipient.id != party.id
    # Streamed page by page through the gate: memory stays about one page, whatever is held.
    return StreamingResponse(
        export.bundle_chunks(node, recipient, preview=preview),
        media_type="application/stix+json;version=2.1",
        headers={"Kizuna-Export": "preview" if preview else "release"},
    )
