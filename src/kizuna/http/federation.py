"""The JSON API of federation: peers and their sync state; background sync while serving."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from kizuna.core.stix.timestamps import format_timestamp
from kizuna.http.api import json, require_home
from kizuna.http.auth import caller
from kizuna.services import background, parties
from kizuna.services import peers as peer_service
from kizuna.services import sync as sync_service
from kizuna.services.node import Node
from kizuna.storage.peers import PeerRecord

router = APIRouter(prefix="/api", tags=["federation"])
log = logging.getLogger("kizuna.sync")


def _ts(us: int | None) -> str | None:
    return format_timestamp(us) if us is not None else None


def peer_out(node: Node, r: PeerRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "url": r.url,
        "party": r.party_id,
        "party_name": parties.find(node, r.party_id).name,
        "push": r.push,
        "cursor": _ts(r.cursor),
        "pulled": r.pulled,
        "pushed": r.pushed,
        "last_sync": _ts(r.last_sync_us),
        "last_ok": _ts(r.last_ok_us),
        "last_error": r.last_error,
        "consecutive_failures": r.failures,
    }


@router.get("/peers", summary="Peers and their sync state (home party only)")
def list_peers(request: Request) -> Response:
    node: Node = request.app.state.node
    require_home(node, caller(request))
    return json([peer_out(node, r) for r in peer_service.all_peers(node)])


@router.post("/peers/sync", summary="Sync every peer now (home party only)")
async def sync_now(request: Request) -> Response:
    node: Node = request.app.state.node
    require_home(node, caller(request))
    results = await sync_service.sync_all(node)
    return json([r.__dict__ for r in results])


@contextlib.asynccontextmanager
async def background_sync(app: FastAPI) -> AsyncIterator[None]:
    """While serving, sync every peer each ``sync_interval`` seconds (0 turns it off)."""
    node: Node = app.state.node
    interval = int(node.settings()["sync_interval"])
    task = asyncio.create_task(_loop(node, interval)) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _loop(node: Node, interval: int) -> None:
    while True:
        await asyncio.sleep(interval)
        if not background.leading(node) or not peer_service.all_peers(node):
            continue
        try:
            await sync_service.sync_all(node)
        except Exception:
            log.exception("background sync failed")
