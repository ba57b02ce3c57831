"""The ASGI application of a node: TAXII 2.1, the JSON API, metrics and health."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import orjson
from fastapi import Depends, FastAPI, Response

from kizuna import __version__
from kizuna.http import api, attribution, console, cvd, errors, federation, taxii, trust
from kizuna.http.actions import RecordWrites
from kizuna.http.auth import metrics_reader
from kizuna.http.observe import Observe
from kizuna.services import background, ledger_checkpoints
from kizuna.services.node import Node


@contextlib.asynccontextmanager
async def _background(app: FastAPI) -> AsyncIterator[None]:
    """What runs while serving: ledger checkpoints when due, and sync with peers, in the one
    process of the node that holds its lease (services.background)."""
    async with (
        background.while_serving(app.state.node),
        ledger_checkpoints.while_serving(app.state.node),
        federation.background_sync(app),
    ):
        yield


def create_app(node: Node) -> FastAPI:
    """Build the app for an opened node."""
    app = FastAPI(
        title="kizuna",
        version=__version__,
        description=(
            "A kizuna node: STIX 2.1 over TAXII 2.1 and a JSON API, every release through one "
            "policy gate. Authenticate with HTTP Basic (party name or id, token) or "
            "`Authorization: Bearer TOKEN`."
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=_background,
    )
    app.state.node = node
    errors.install(app)
    app.include_router(taxii.router)
    app.include_router(api.router)
    app.include_router(trust.router)
    app.include_router(attribution.router)
    app.include_router(cvd.router)
    app.include_router(federation.router)
    app.include_router(console.router)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (home party's users or a monitoring token)",
        dependencies=[Depends(metrics_reader)],
    )
    def metrics() -> Response:
        return Response(
            node.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        with node.db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: database reachable, schema current, key present (503 with reasons)",
    )
    def readyz() -> Response:
        from kizuna.services import health

        reasons = health.not_ready(node)
        body = orjson.dumps({"status": "not ready" if reasons else "ready", "reasons": reasons})
        return Response(body, status_code=503 if reasons else 200, media_type="application/json")

    app.add_middleware(RecordWrites, node=node)
    app.add_middleware(Observe, metrics=node.metrics)
    return app
