"""The TAXII 2.1 face: discovery, API root, collections, objects, manifest, versions, status."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from kizuna import __version__
from kizuna.core import taxii as core_taxii
from kizuna.core.parties import Party
from kizuna.core.taxii import COLLECTIONS, GENERATION_HEADER, MEDIA_TAXII, Query
from kizuna.errors import NotFound
from kizuna.http.auth import caller
from kizuna.http.body import read_body
from kizuna.http.media import accept_taxii, content_taxii
from kizuna.services import state, taxii
from kizuna.services.node import Node

API_ROOT = "/taxii2/root/"

router = APIRouter(prefix="/taxii2", tags=["TAXII 2.1"], dependencies=[Depends(accept_taxii)])
Caller = Annotated[Party, Depends(caller)]

_OBJECT_PARAMS = frozenset(
    {"added_after", "limit", "next", "match[version]", "match[spec_version]"}
)
_DELETE_PARAMS = frozenset({"match[version]", "match[spec_version]"})
_VERSIONS_PARAMS = frozenset({"added_after", "limit", "next", "match[spec_version]"})


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def respond(
    content: bytes | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A TAXII response: always ``application/taxii+json;version=2.1``."""
    body = content if isinstance(content, bytes) else orjson.dumps(content)
    return Response(body, status_code=status, media_type=MEDIA_TAXII, headers=headers)


def _query(request: Request, allow: frozenset[str] | None = None) -> Query:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    settings = _node(request).settings()
    kwargs: dict[str, Any] = {}
    if allow is not None:
        kwargs["allow"] = allow
    return core_taxii.parse_query(
        params, page_size=settings["page_size"], max_page_size=settings["max_page_size"], **kwargs
    )


def _date_headers(p: taxii.Page) -> dict[str, str]:
    if p.first_added is None or p.last_added is None:
        return {}
    return {
        "X-TAXII-Date-Added-First": core_taxii.taxii_timestamp(p.first_added),
        "X-TAXII-Date-Added-Last": core_taxii.taxii_timestamp(p.last_added),
    }


@router.get("/", summary="TAXII discovery")
def discovery(request: Request, party: Caller) -> Response:
    base = str(request.base_url).rstrip("/")
    settings = _node(request).settings()
    return respond(
        {
            "title": settings["title"],
            "description": f"kizuna {__version__}: STIX 2.1 behind one policy gate",
            "default": base + API_ROOT,
            "api_roots": [base + API_ROOT],
        }
    )


@router.get("/root/", summary="TAXII API root")
def api_root(request: Request, party: Caller) -> Response:
    return respond(
        {
            "title": "kizuna",
            "description": "Objects released to you by this node's policy gate, and your inbox.",
            "versions": [MEDIA_TAXII],
            "max_content_length": _node(request).settings()["max_content_length"],
        }
    )


@router.get("/root/collections/", summary="TAXII collections")
def collections(party: Caller) -> Response:
    return respond({"collections": [c.resource() for c in COLLECTIONS.values()]})


@router.get("/root/collections/{collection_id}/", summary="TAXII collection")
def collection(collection_id: str, party: Caller) -> Response:
    return respond(taxii.collection(collection_id).resource())


@router.get("/root/collections/{collection_id}/objects/", summary="TAXII get objects")
def get_objects(request: Request, collection_id: str, party: Caller) -> Response:
    coll = taxii.collection(collection_id)
    query = _query(request)
    node = _node(request)
    p = taxii.page(node, party, taxii.scoped(party, coll, query.filters), query)
    # Peers watch this number: when it moves, objects held back before may be released now.
    headers = {**_date_headers(p), GENERATION_HEADER: str(state.current(node).generation)}
    return respond(taxii.objects_envelope(p), headers=headers)


@router.post(
    "/root/collections/{collection_id}/objects/",
    summary="TAXII add objects",
    status_code=202,
    dependencies=[Depends(content_taxii)],
)
async def add_objects(request: Request, collection_id: str, party: Caller) -> Response:
    coll = taxii.collection(collection_id)
    node = _node(request)
    body = await read_body(request, node.settings()["max_content_length"])
    status = await run_in_threadpool(taxii.add_objects, node, party, coll, body)
    return respond(status, status=202)


@router.get("/root/collections/{collection_id}/manifest/", summary="TAXII manifest")
def get_manifest(request: Request, collection_id: str, party: Caller) -> Response:
    coll = taxii.collection(collection_id)
    query = _query(request)
    filters = taxii.scoped(party, coll, query.filters)
    p = taxii.page(_node(request), party, filters, query, content=False)
    return respond(taxii.manifest(p), headers=_date_headers(p))


@router.get("/root/collections/{collection_id}/objects/{object_id}/", summary="TAXII get object")
def get_object(request: Request, collection_id: str, object_id: str, party: Caller) -> Response:
    coll = taxii.collection(collection_id)
    query = _query(request, _OBJECT_PARAMS)
    node = _node(request)
    filters = taxii.object_filters(node, party, object_id, taxii.scoped(party, coll, query.filters))
    p = taxii.page(node, party, filters, query)
    if not p.releases and query.after is None:
        raise NotFound(f"no object {object_id} for you in this collection")
    return respond(taxii.objects_envelope(p), headers=_date_headers(p))


@router.delete(
    "/root/collections/{collection_id}/objects/{object_id}/", summary="TAXII delete object"
)
def delete_object(request: Request, collection_id: str, object_id: str, party: Caller) -> Response:
    coll = taxii.collection(collection_id)
    query = _query(request, _DELETE_PARAMS)
    taxii.delete_object(_node(request), party, coll, object_id, query.filters)
    return respond(b"", status=200)


@router.get(
    "/root/collections/{collection_id}/objects/{object_id}/versions/", summary="TAXII versions"
)
def get_versions(request: Request, collection_id: str, object_id: str, party: Caller) -> Response:
    coll = taxii.collection(collection_id)
    query = _query(request, _VERSIONS_PARAMS)
    node = _node(request)
    filters = dataclasses.replace(query.filters, versions=("all",))
    filters = taxii.object_filters(node, party, object_id, taxii.scoped(party, coll, filters))
    p = taxii.page(node, party, filters, query, content=False)
    if not p.releases and query.after is None:
        raise NotFound(f"no object {object_id} for you in this collection")
    return respond(taxii.versions(p), headers=_date_headers(p))


@router.get("/root/status/{status_id}/", summary="TAXII status")
def get_status(request: Request, status_id: str, party: Caller) -> Response:
    return respond(taxii.status(_node(request), party, status_id))
