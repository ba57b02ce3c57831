"""Every write through the JSON API or TAXII leaves a line of who did it (``kizuna audit actions``):
the party, and the person when a personal token was used. The console records its own writes."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kizuna.services import users
from kizuna.services.node import Node

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class RecordWrites:
    """Pure ASGI middleware: after an authenticated write, one row in ``actions``."""

    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            state = scope.get("state") or {}
            party = state.get("party")
            if party and not state.get("console"):
                via = "taxii" if scope["path"].startswith("/taxii2") else "api"
                await run_in_threadpool(
                    users.record,
                    self.node,
                    party,
                    state.get("user"),
                    via,
                    f"{scope['method']} {scope['path']}",
                    status,
                )
