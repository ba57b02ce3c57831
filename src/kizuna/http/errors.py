"""Every error becomes a TAXII error resource (under /taxii2/) or a JSON problem (elsewhere)."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from kizuna.core.taxii import MEDIA_TAXII, error_resource
from kizuna.errors import KizunaError, NotAuthenticated
from kizuna.http.auth import CHALLENGE
from kizuna.storage.database import is_transient

log = logging.getLogger("kizuna.http")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request entity too large",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(request: Request, status: int, message: str, code: str) -> Response:
    """The error response for this request's face."""
    headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
    if request.url.path.startswith("/taxii2"):
        body = error_resource(_TITLES.get(status, "Error"), status, message, code)
        return Response(orjson.dumps(body), status, media_type=MEDIA_TAXII, headers=headers)
    body = {"error": {"code": code, "message": message, "status": status}}
    return Response(orjson.dumps(body), status, media_type="application/json", headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(KizunaError)
    async def _kizuna(request: Request, exc: KizunaError) -> Response:
        if isinstance(exc, NotAuthenticated):
            log.info("authentication refused: %s", exc.message)
        return problem(request, exc.status, exc.message, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg')}")
        return problem(request, 400, "; ".join(parts) or "invalid request", "invalid-request")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return problem(request, exc.status_code, message, f"http-{exc.status_code}")

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if is_transient(exc):  # retried already where a write can be; the client may again
            log.warning("busy database on %s %s: %s", request.method, request.url.path, exc.orig)
            response = problem(
                request, 503, "the node's database is busy; try again in a second", "busy"
            )
            response.headers["Retry-After"] = "1"
            return response
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(request, 500, "the node failed unexpectedly; see its log", "internal")
