"""No single request stops or exhausts a node (issue 12 §3): regexes, nesting, status lifetime.

Each refusal is a clear 4xx naming the limit, or a per-object failure in the status resource
while the rest of the envelope is stored.
"""

from __future__ import annotations

import socket
import threading
import uuid
from typing import Any

import orjson
import pytest
import uvicorn
from sqlalchemy import select
from stix_factory import API_ROOT, INBOX_URL, TAXII_HEADERS, assert_taxii_error, indicator
from taxii_harness import Caller, Taxii

from kizuna.http import server
from kizuna.http.app import create_app
from kizuna.services import tokens
from kizuna.storage.schema import statuses
from support import FakeClock

BUNDLE_ID = "bundle--6c1f0bd5-7b8a-4a7e-9f0e-3d0b6c6f1a11"


def nested(levels: int) -> bytes:
    """A JSON value nested ``levels`` dictionaries deep (orjson would not write it past 254)."""
    return b'{"x_a":' * levels + b'"x"' + b"}" * levels


def with_property(obj: dict[str, Any], name: str, raw: bytes) -> bytes:
    """The object's JSON with one more property whose value is ``raw`` JSON text."""
    return orjson.dumps(obj)[:-1] + b',"' + name.encode() + b'":' + raw + b"}"


@pytest.fixture
def bsi(taxii: Taxii) -> Caller:
    return taxii.join("BSI")


def post(who: Caller, body: bytes) -> Any:
    return who.client.post(INBOX_URL + "objects/", content=body, headers=TAXII_HEADERS)


def test_a_backreference_in_matches_is_refused_at_ingest_naming_it(
    taxii: Taxii, bsi: Caller
) -> None:
    evil = indicator("backreference", created_by=bsi.party.id)
    evil["pattern"] = r"[file:name MATCHES '^(a+)\\1$']"
    fine = indicator("nested-quantifiers", created_by=bsi.party.id)
    fine["pattern"] = "[file:name MATCHES '^(a+)+$']"  # the reported pattern: linear on RE2
    status = post(bsi, orjson.dumps({"objects": [evil, fine]})).json()
    assert [s["id"] for s in status["successes"]] == [fine["id"]]
    (failure,) = status["failures"]
    assert failure["id"] == evil["id"]
    assert "a backreference ('\\1')" in failure["message"]
    assert "no linear-time evaluation" in failure["message"]
    assert "at character 25" in failure["message"]


def test_an_object_nested_too_deep_fails_alone(taxii: Taxii, bsi: Caller) -> None:
    deep = indicator("deep", created_by=bsi.party.id)
    fine = indicator("shallow", created_by=bsi.party.id)
    body = b'{"objects":[' + with_property(deep, "x_deep", nested(255))
    body += b"," + orjson.dumps(fine) + b"]}"
    r = post(bsi, body)
    assert r.status_code == 202, r.text
    status = r.json()
    assert [s["id"] for s in status["successes"]] == [fine["id"]]
    (failure,) = status["failures"]
    assert failure["id"] == deep["id"]
    assert "nested more than 64 levels" in failure["message"]
    assert "max_object_depth" in failure["message"]
    # The JSON API reports it alike.
    bundle = b'{"type":"bundle","id":"' + BUNDLE_ID.encode() + b'","objects":['
    bundle += with_property(indicator("deep-api", created_by=bsi.party.id), "x_d", nested(100))
    api = bsi.client.post("/api/objects", content=bundle + b"]}")
    assert api.status_code == 200, api.text
    (failed,) = api.json()["failed"]
    assert "max_object_depth" in failed["reason"]


def test_the_depth_limit_is_a_setting(taxii: Taxii, bsi: Caller) -> None:
    taxii.node.set_setting("max_object_depth", "3")
    obj = with_property(indicator("three", created_by=bsi.party.id), "x_d", nested(3))
    status = post(bsi, b'{"objects":[' + obj + b"]}").json()
    assert "nested more than 3 levels" in status["failures"][0]["message"]
    with pytest.raises(Exception, match="at most 200"):
        taxii.node.set_setting("max_object_depth", "255")


@pytest.mark.parametrize("levels", [1025, 1_000_000], ids=["1025", "a-million"])
def test_a_body_nested_too_deep_is_refused_while_parsing(
    taxii: Taxii, bsi: Caller, levels: int
) -> None:
    body = b'{"objects":[' + b"[" * levels + b"]" * levels + b"]}"
    r = post(bsi, body)
    assert_taxii_error(r, 400)
    assert "depth limit exceeded" in r.json()["description"]
    api = bsi.client.post("/api/objects", content=body)
    assert api.status_code == 400
    assert "depth limit exceeded" in api.json()["error"]["message"]


def test_the_export_is_streamed_not_built_in_memory(taxii: Taxii, bsi: Caller) -> None:
    """Chunked, page by page through the gate: no Content-Length, which a body built whole has."""
    objects = [indicator(f"export-{n}", created_by=bsi.party.id) for n in range(3)]
    assert post(bsi, orjson.dumps({"objects": objects})).json()["success_count"] == 3
    with taxii.home.client.stream("GET", "/api/export") as r:
        assert r.status_code == 200
        assert "content-length" not in r.headers
        body = b"".join(r.iter_bytes())
    exported = {o["id"] for o in orjson.loads(body)["objects"]}
    assert {o["id"] for o in objects} <= exported


def test_status_resources_expire_after_their_lifetime(
    taxii: Taxii, bsi: Caller, clock: FakeClock
) -> None:
    """On the node's clock: readable within ``status_lifetime``, 404 after, then deleted."""
    first = post(bsi, orjson.dumps({"objects": [indicator("status-1")]})).json()
    url = f"{API_ROOT}status/{first['id']}/"
    assert bsi.client.get(url, headers=TAXII_HEADERS).status_code == 200
    clock.advance(86_400 - 1)
    assert bsi.client.get(url, headers=TAXII_HEADERS).status_code == 200
    clock.advance(2)
    gone = bsi.client.get(url, headers=TAXII_HEADERS)
    assert_taxii_error(gone, 404)
    unknown = bsi.client.get(f"{API_ROOT}status/{uuid.uuid4()}/", headers=TAXII_HEADERS)
    assert_taxii_error(unknown, 404)
    assert gone.json()["description"] == f"there is no status {first['id']!r} for you"
    post(bsi, orjson.dumps({"objects": [indicator("status-2")]}))  # a write expires old ones
    with taxii.node.db.read() as conn:
        kept = conn.execute(select(statuses.c.id)).scalars().all()
    assert first["id"] not in kept and len(kept) == 1


def _serve(node: Any) -> tuple[int, Any, threading.Thread]:
    """The node served on loopback exactly as ``kizuna serve`` configures uvicorn."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    cfg = server.config(create_app(node), node.settings(), lifespan="off", log_level="warning")
    srv = uvicorn.Server(cfg)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started and thread.is_alive():
        threading.Event().wait(0.01)
    return sock.getsockname()[1], srv, thread


def _trickle(port: int, data: bytes) -> bytes:
    """Send ``data`` a byte every 0.1 s; what the server answered once it closed (or b"")."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        for byte in data:
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                break  # the server closed the connection
            threading.Event().wait(0.1)
        conn.settimeout(30)
        try:
            return conn.recv(4096)
        except OSError:
            return b""


@pytest.mark.parametrize("part", ["headers", "body"])
def test_slow_clients_are_cut_off(sqlite_node: Any, part: str) -> None:
    """A client that trickles its headers or body is answered 408 and disconnected: it sends
    ten seconds' worth of bytes against a deadline of one second."""
    sqlite_node.set_setting("request_header_timeout", "1")
    sqlite_node.set_setting("request_body_timeout", "1")
    port, srv, thread = _serve(sqlite_node)
    try:
        token = tokens.create(sqlite_node, sqlite_node.home_party.id).value
        head = b"POST /api/objects HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        head += b"Authorization: Bearer " + token.encode() + b"\r\n\r\n"
        if part == "headers":
            answer = _trickle(port, head + b"x" * 100)
        else:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
                conn.sendall(head)
                sent = 0
                answer = b""
                while sent < 100:
                    try:
                        conn.sendall(b"x")
                    except OSError:
                        break
                    sent += 1
                    threading.Event().wait(0.1)
                    conn.setblocking(False)
                    try:
                        answer += conn.recv(4096)
                    except BlockingIOError:
                        pass
                    except OSError:
                        break
                    finally:
                        conn.setblocking(True)
                    if answer:
                        break
                assert sent < 100
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert f"request's {part} did not arrive".encode() in answer
    finally:
        srv.should_exit = True
        thread.join(timeout=15)
