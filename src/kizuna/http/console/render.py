"""Templates, security headers, the session cookie and the person behind a request."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kizuna.errors import KizunaError, NotAuthenticated
from kizuna.services import state, users
from kizuna.services.node import Node
from kizuna.services.users import Session

HERE = Path(__file__).parent
COOKIE = "kizuna_session"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

# Pages named in the navigation, in order; (path, label, action the person needs).
NAV: tuple[tuple[str, str, str], ...] = (
    ("/", "Home", "read"),
    ("/search", "Search", "read"),
    ("/partners", "Partners", "preview"),
    ("/consents", "Consents", "publish"),
    ("/agreements", "Agreements", "read"),
    ("/import", "Import", "import"),
    ("/ledger", "Ledger", "audit"),
    # Capabilities built by other issues: their pages slot in here (templates cvd.html,
    # attribution.html).
    ("/cvd", "CVD", "read"),
    ("/attribution", "Attribution", "read"),
)


def _time(us: int | None) -> str:
    if us is None:
        return "-"
    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["time"] = _time
templates.filters["pretty"] = _pretty
templates.filters["q"] = lambda s: quote(str(s), safe="")


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def page(
    request: Request, name: str, session: Session | None, status: int = 200, **context: Any
) -> HTMLResponse:
    node = node_of(request)
    parties = state.current(node).parties
    nav = [(p, label) for p, label, action in NAV if session is None or session.user.may(action)]
    html = templates.get_template(name).render(
        session=session,
        nav=nav,
        path=request.url.path,
        home=node.home_party,
        party_name=lambda pid: parties[pid].name if pid in parties else pid,
        **context,
    )
    return HTMLResponse(html, status, headers=HEADERS)


def redirect(to: str, status: int = 303) -> RedirectResponse:
    return RedirectResponse(to, status, headers=HEADERS)


def current(request: Request) -> Session | None:
    """The logged-in person, or None."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    try:
        s = users.session(node_of(request), secret)
    except NotAuthenticated:
        return None
    request.state.party = s.party.id
    request.state.user = s.user.name
    request.state.console = True
    return s


def set_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=users.SESSION_LIFETIME_US // 1_000_000,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def error_page(request: Request, session: Session | None, exc: KizunaError) -> HTMLResponse:
    return page(request, "error.html", session, exc.status, message=exc.message, code=exc.code)
