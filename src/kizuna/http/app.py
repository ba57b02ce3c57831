"""The ASGI application of a node: TAXII 2.1, the JSON API, metrics and health."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

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


DOCS_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css")


def _api_docs(app: FastAPI) -> None:
    """/api/docs: Swagger UI with its script and style from this node (swagger-ui-bundle-v2
    ships them), so the page works on a network without Internet access."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import FileResponse, HTMLResponse
    from swagger_ui_bundle import swagger_ui_path

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="kizuna API",
            swagger_js_url="/api/docs/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/swagger-ui.css",
            swagger_favicon_url="/api/docs/favicon-32x32.png",
        )

    @app.get("/api/docs/{asset}", include_in_schema=False)
    def docs_asset(asset: str) -> Response:
        if asset not in (*DOCS_ASSETS, "favicon-32x32.png"):
            return Response(status_code=404)
        return FileResponse(
            Path(swagger_ui_path) / asset, headers={"Cache-Control": "max-age=86400"}
        )


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
        docs_url=None,  # served below from the node itself: no CDN, works air-gapped
        redoc_url=None,
        lifespan=_background,
    )
    app.state.node = node
    errors.install(app)
    _api_docs(app)
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
