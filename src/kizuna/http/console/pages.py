"""The console's pages. GET handlers read; every POST checks the CSRF token, then the role."""

from __future__ import annotations

import functools
import inspect
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import yaml
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from kizuna.core import people
from kizuna.errors import Forbidden, InvalidInput, KizunaError, NotAuthenticated, NotFound
from kizuna.http.console.render import (
    COOKIE,
    HEADERS,
    HERE,
    current,
    error_page,
    node_of,
    page,
    redirect,
    set_cookie,
)
from kizuna.services import agreements as agreement_service
from kizuna.services import consents, console, importer, state, users
from kizuna.services import ledger as ledger_service
from kizuna.services import parties as party_service
from kizuna.services.users import Session

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "kizuna_login"
STATIC = {"console.css": "text/css", "console.js": "text/javascript", "logo.svg": "image/svg+xml"}
TYPES = (
    "indicator",
    "malware",
    "threat-actor",
    "intrusion-set",
    "campaign",
    "attack-pattern",
    "vulnerability",
    "report",
    "sighting",
    "observed-data",
    "identity",
    "infrastructure",
    "tool",
    "course-of-action",
    "relationship",
    "note",
    "ipv4-addr",
    "domain-name",
    "url",
    "file",
)


def _denied(request: Request, s: Session, action: str) -> Response | None:
    """A refusal page (403) unless the person may do ``action``."""
    if s.user.may(action):
        return None
    return error_page(
        request,
        s,
        Forbidden(
            f"this needs the role {people.needed(action)}; {s.user.name} has "
            f"{', '.join(s.user.roles)}"
        ),
    )


def _home_only(request: Request, s: Session) -> Response | None:
    if s.party.id == node_of(request).home_party.id:
        return None
    return error_page(request, s, Forbidden("only the home party's people may see this page"))


def guarded(action: str, home: bool = False) -> Callable[..., Any]:
    """A GET page for logged-in people allowed ``action``; otherwise login or a refusal."""

    def wrap(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def inner(request: Request, *args: Any, **kwargs: Any) -> Response:
            s = current(request)
            if s is None:
                return redirect(f"/login?next={request.url.path}")
            refused = _denied(request, s, action) or (_home_only(request, s) if home else None)
            if refused is not None:
                return refused
            try:
                return fn(request, s, *args, **kwargs)
            except KizunaError as exc:
                return error_page(request, s, exc)

        # FastAPI reads the parameters from the signature: every one but the session.
        sig = inspect.signature(fn)
        params = [p for name, p in sig.parameters.items() if name != "s"]
        inner.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        return inner

    return wrap


class Form:
    """A posted form, read whole: text fields, and uploaded files as (name, bytes)."""

    def __init__(
        self, fields: dict[str, list[str]], files: dict[str, list[tuple[str, bytes]]]
    ) -> None:
        self.fields = fields
        self.files = files

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def uploads(self, name: str) -> list[tuple[str, bytes]]:
        return [(n, data) for n, data in self.files.get(name, []) if n]


async def _read_form(request: Request, limit: int) -> Form:
    fields: dict[str, list[str]] = {}
    files: dict[str, list[tuple[str, bytes]]] = {}
    async with request.form(max_part_size=limit) as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                name = Path(value.filename or "").name
                files.setdefault(key, []).append((name, await value.read()))
            elif isinstance(value, str):
                fields.setdefault(key, []).append(value)
    return Form(fields, files)


async def _form(
    request: Request, action: str, home: bool = False
) -> tuple[Session, Form] | Response:
    """A POST's session and form: CSRF first, then the role (403 names what is missing)."""
    s = current(request)
    if s is None:
        return error_page(request, None, NotAuthenticated("log in first"))
    node = node_of(request)
    form = await _read_form(request, node.settings()["max_content_length"])
    try:
        users.check_csrf(s, form.get("csrf"))
    except Forbidden as exc:
        return error_page(request, s, exc)
    refused = _denied(request, s, action) or (_home_only(request, s) if home else None)
    if refused is not None:
        users.record(node, s.party.id, s.user.name, "console", f"refused {request.url.path}", 403)
        return refused
    return s, form


def _record(request: Request, s: Session, action: str) -> None:
    users.record(node_of(request), s.party.id, s.user.name, "console", action, 0)


# --- login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, csrf=token, next=next, error=None)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/"


@router.post("/login")
async def login(request: Request) -> Response:
    node = node_of(request)
    form = await request.form()
    presented, expected = str(form.get("csrf") or ""), request.cookies.get(LOGIN_COOKIE, "")
    next_page = _safe_next(str(form.get("next") or "/"))
    if not expected or not secrets.compare_digest(presented, expected):
        return page(
            request,
            "login.html",
            None,
            403,
            csrf=expected,
            next=next_page,
            error="the login form expired: reload the page and retry",
        )
    client = request.client.host if request.client else "-"
    try:
        s = await run_in_threadpool(
            users.login, node, str(form.get("user") or ""), str(form.get("password") or ""), client
        )
    except KizunaError as exc:
        return page(
            request,
            "login.html",
            None,
            exc.status,
            csrf=expected,
            next=next_page,
            error=exc.message,
        )
    _record(request, s, "login")
    response = redirect(next_page)
    set_cookie(request, response, s.secret)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    got = await _form(request, "read")
    if isinstance(got, Response):
        return got
    users.logout(node_of(request), request.cookies.get(COOKIE, ""))
    response = redirect("/login")
    response.delete_cookie(COOKIE)
    return response


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers=HEADERS)


# --- reading -------------------------------------------------------------------------------------


@router.get("/")
@guarded("read")
def home(request: Request, s: Session) -> Response:
    node = node_of(request)
    previous = users.touch_visit(node, s.user)
    return page(request, "home.html", s, data=console.home(node, s.party, previous), since=previous)


def _date(value: str, what: str) -> int | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from exc
    return int(day.timestamp() * 1_000_000)


@router.get("/search")
@guarded("read")
def search(
    request: Request,
    s: Session,
    q: str = "",
    type: str = "",
    label: str = "",
    marking: str = "",
    originator: str = "",
    since: str = "",
    next: str | None = None,
) -> Response:
    node = node_of(request)
    parties = sorted(state.current(node).parties.values(), key=lambda p: p.name)
    form = {
        "q": q,
        "type": type,
        "label": label,
        "marking": marking,
        "originator": originator,
        "since": since,
    }
    try:
        origin = party_service.find(node, originator).id if originator else ""
        criteria = console.Criteria(
            q.strip()[:200],
            type.strip(),
            label.strip(),
            marking.strip(),
            origin,
            _date(since, "added since"),
        )
        results = (
            None
            if criteria.empty and next is None
            else console.search(node, s.party, criteria, cursor=next)
        )
    except KizunaError as exc:
        return page(
            request,
            "search.html",
            s,
            400,
            form=form,
            types=TYPES,
            parties=parties,
            results=None,
            error=exc.message,
        )
    return page(
        request,
        "search.html",
        s,
        form=form,
        types=TYPES,
        parties=parties,
        results=results,
        error=None,
    )


@router.get("/object/{object_id}")
@guarded("read")
def object_page(request: Request, s: Session, object_id: str) -> Response:
    node = node_of(request)
    view = console.object_view(node, s.party, object_id)
    if view is None:
        raise NotFound(f"no object {object_id} for you")
    is_home = s.party.id == node.home_party.id
    partners = (
        console.who_may_receive(node, view.versions[-1].id)
        if (is_home and s.user.may("preview"))
        else None
    )
    went = ledger_service.show(node, view.versions[-1].id) if is_home else None
    receipts = ledger_service.receipts(node, view.versions[-1].id) if is_home else []
    return page(
        request,
        "object.html",
        s,
        view=view,
        partners=partners,
        went=went,
        receipts=receipts,
        latest=view.versions[-1],
    )


@router.get("/partners")
@guarded("preview", home=True)
def partners(request: Request, s: Session) -> Response:
    node = node_of(request)
    others = [p for p in party_service.all_parties(node) if not p.is_home]
    return page(request, "partners.html", s, partners=others)


@router.get("/partners/{name}")
@guarded("preview", home=True)
def partner_preview(request: Request, s: Session, name: str) -> Response:
    node = node_of(request)
    partner = party_service.find(node, name)
    rows, total = console.partner_preview(node, partner)
    return page(
        request,
        "partner.html",
        s,
        partner=partner,
        rows=rows,
        total=total,
        released=sum(1 for r in rows if r.released),
    )


@router.get("/consents")
@guarded("publish", home=True)
def consents_page(request: Request, s: Session) -> Response:
    node = node_of(request)
    return page(
        request,
        "consents.html",
        s,
        requests=console.open_requests(node),
        granted=consents.list_consents(node, node.home_party.id),
        now=node.now(),
    )


@router.get("/agreements")
@guarded("read")
def agreements_page(request: Request, s: Session) -> Response:
    node = node_of(request)
    rows = agreement_service.list_all(node, s.party)
    histories = {
        st.agreement.id: agreement_service.history_for(node, st.agreement.id, s.party)
        for st in rows
    }
    return page(
        request,
        "agreements.html",
        s,
        rows=rows,
        histories=histories,
        now=node.now(),
        may_sign=s.user.may("publish") and s.party.id == node.home_party.id,
    )


@router.get("/import")
@guarded("import")
def import_page(request: Request, s: Session) -> Response:
    return page(request, "import.html", s, reports=None)


@router.get("/ledger")
@guarded("audit", home=True)
def ledger_page(request: Request, s: Session, recipient: str = "") -> Response:
    node = node_of(request)
    entries = ledger_service.show(node)
    if recipient:
        who = party_service.find(node, recipient).id
        entries = [e for e in entries if e.recipient == who]
    return page(
        request,
        "ledger.html",
        s,
        entries=entries[-500:][::-1],
        total=len(entries),
        audit=ledger_service.verify(node),
        recipient=recipient,
    )


@router.get("/cvd")
@guarded("read")
def cvd_page(request: Request, s: Session) -> Response:
    return page(
        request, "placeholder.html", s, title="Coordinated vulnerability disclosure", api=None
    )


@router.get("/attribution")
@guarded("read")
def attribution_page(request: Request, s: Session) -> Response:
    return page(request, "placeholder.html", s, title="Attribution cases", api="/api/attribution")


# --- writing -------------------------------------------------------------------------------------


def _request_of(node: Any, request_id: str) -> dict[str, Any]:
    for r in console.open_requests(node):
        if r["id"] == request_id:
            return r
    raise NotFound(f"no open consent request {request_id}")


@router.post("/consents/{request_id}/grant")
async def consent_grant(request: Request, request_id: str) -> Response:
    got = await _form(request, "publish", home=True)
    if isinstance(got, Response):
        return got
    s, form = got
    node = node_of(request)
    try:
        days = int(form.get("days", "30") or "30")
        if not 1 <= days <= 3650:
            raise InvalidInput("a consent lasts 1 to 3650 days")
        r = _request_of(node, request_id)
        granted = await run_in_threadpool(
            functools.partial(
                consents.grant,
                node,
                expires_us=node.now() + days * 86_400_000_000,
                objects=[str(o) for o in r.get("object_refs", ())],
                parties=[str(r["recipient_ref"])],
            )
        )
    except (KizunaError, ValueError) as exc:
        err = exc if isinstance(exc, KizunaError) else InvalidInput("days: a whole number")
        return error_page(request, s, err)
    _record(request, s, f"consent grant {request_id} as {granted.id}")
    return redirect("/consents")


@router.post("/consents/{request_id}/refuse")
async def consent_refuse(request: Request, request_id: str) -> Response:
    got = await _form(request, "publish", home=True)
    if isinstance(got, Response):
        return got
    s, form = got
    reason = " ".join(form.get("reason").split())[:120]
    try:
        _request_of(node_of(request), request_id)
        if not reason:
            raise InvalidInput("a refusal gives its reason")
    except KizunaError as exc:
        return error_page(request, s, exc)
    _record(request, s, f"{console.REFUSE}{request_id} {reason}")
    return redirect("/consents")


@router.post("/agreements/{agreement_id}/sign")
async def agreement_sign(request: Request, agreement_id: str) -> Response:
    got = await _form(request, "publish", home=True)
    if isinstance(got, Response):
        return got
    s, form = got
    node = node_of(request)
    try:
        version = int(form.get("version", "0") or "0") or None
        signed = await run_in_threadpool(agreement_service.sign, node, agreement_id, version)
    except (KizunaError, ValueError) as exc:
        err = exc if isinstance(exc, KizunaError) else InvalidInput("version: a whole number")
        return error_page(request, s, err)
    _record(request, s, f"agreement sign {signed.ref}")
    return redirect("/agreements")


def _document(data: bytes, name: str) -> dict[str, Any]:
    try:
        doc = orjson.loads(data) if not name.endswith((".yaml", ".yml")) else yaml.safe_load(data)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{name}: not a JSON or YAML agreement document: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidInput(f"{name}: an agreement document is one JSON object")
    return doc


@router.post("/agreements/upload")
async def agreement_upload(request: Request) -> Response:
    """A version signed offline (`kizuna agreement sign FILE --key KEY`): signatures merge."""
    got = await _form(request, "publish")
    if isinstance(got, Response):
        return got
    s, form = got
    node = node_of(request)
    uploads = form.uploads("document")
    try:
        if not uploads:
            raise InvalidInput("choose the signed agreement document to upload")
        doc = _document(uploads[0][1], uploads[0][0])
        home = s.party.id == node.home_party.id
        stored = await run_in_threadpool(
            functools.partial(
                agreement_service.add,
                node,
                doc,
                submitter=None if home else s.party,
                path="operator" if home else "api",
            )
        )
    except KizunaError as exc:
        return error_page(request, s, exc)
    _record(request, s, f"agreement upload {stored.ref}")
    return redirect("/agreements")


@router.post("/import")
async def import_files(request: Request) -> Response:
    got = await _form(request, "import")
    if isinstance(got, Response):
        return got
    s, form = got
    node = node_of(request)
    files = form.uploads("files")
    if not files:
        return error_page(request, s, InvalidInput("choose at least one file to import"))
    reports: list[tuple[str, importer.Report | None, str | None]] = []
    for name, data in files:
        try:
            report = await run_in_threadpool(_import_one, node, s, name, data)
            reports.append((name, report, None))
            _record(
                request, s, f"import {name}: {report.stored} stored, {len(report.failures)} failed"
            )
        except KizunaError as exc:
            reports.append((name, None, exc.message))
    return page(request, "import.html", s, reports=reports)


def _import_one(node: Any, s: Session, name: str, data: bytes) -> importer.Report:
    if s.party.id == node.home_party.id:
        # The home party's import takes what `kizuna import` takes (STIX, NDJSON, MISP, CSAF).
        with tempfile.TemporaryDirectory(prefix="kizuna-console-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            return importer.import_paths(node, [path], resume=False)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{name}: not JSON: {exc}") from exc
    objects = importer.objects_of(document, name)
    return importer.ingest_objects(node, s.party, objects, "api", name)
