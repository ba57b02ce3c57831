"""Logs for log shipping: one JSON object per line (uvicorn's lines too), UTC times, the client
address, the party and the token's id (never the secret); a failed sync at warning with the
peer and the reason."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kizuna import logs
from kizuna.cli.main import cli
from kizuna.http.app import create_app
from kizuna.services import parties, peers, tokens
from kizuna.services.node import Node


@pytest.fixture
def json_logs() -> Iterator[None]:
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in (*logs.LOGGERS, "uvicorn.error", "uvicorn.access")
    }
    logs.configure("info")
    yield
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate


def lines(err: str) -> list[dict[str, object]]:
    out = [orjson.loads(line) for line in err.splitlines() if line.strip()]
    assert out, "nothing was logged"
    return out


def test_every_line_is_json_with_utc_time_client_party_and_token(
    sqlite_node: Node, capsys: pytest.CaptureFixture[str], json_logs: None
) -> None:
    token = tokens.create(sqlite_node, sqlite_node.home_party.id, "log-test").value
    client = TestClient(create_app(sqlite_node))
    capsys.readouterr()
    r = client.get("/taxii2/", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    logging.getLogger("uvicorn.error").warning("uvicorn says something")
    got = lines(capsys.readouterr().err)
    request = next(x for x in got if x["event"] == "request")
    assert request["party"] == sqlite_node.home_party.id
    assert request["token"] == token.split("_")[1] and token not in str(got)
    assert request["client"] == "testclient"
    assert all(str(x["time"]).endswith("Z") for x in got)
    assert any(x["logger"] == "uvicorn.error" for x in got)


def test_a_failed_sync_exits_1_and_logs_a_warning_with_peer_and_reason(
    sqlite_node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    parties.add_party(sqlite_node, "BSI", jurisdiction="DE", kind="government")
    peers.add(sqlite_node, "http://127.0.0.1:9/", "BSI", "kz_x_y")  # port 9: nobody listens
    sqlite_node.close()
    with caplog.at_level(logging.INFO, logger="kizuna"):
        result = CliRunner().invoke(
            cli, ["--home", str(sqlite_node.home), "sync", "--timeout", "1"]
        )
    assert result.exit_code == 1, result.output
    [failed] = [r for r in caplog.records if r.name == "kizuna.sync" and "failed" in r.message]
    assert failed.levelno == logging.WARNING
    assert "BSI" in failed.getMessage() and failed.__dict__.get("reason")


def test_api_docs_load_nothing_from_outside_the_node(sqlite_node: Node) -> None:
    """/api/docs works air-gapped: every script and style it loads is served by the node."""
    import re

    client = TestClient(create_app(sqlite_node))
    page = client.get("/api/docs")
    assert page.status_code == 200
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded and all(url.startswith("/api/") for url in loaded), loaded
    for url in loaded:
        got = client.get(url)
        assert got.status_code == 200 and len(got.content) > 100, url
    assert "http://" not in page.text.replace("http://www.w3.org", "")
    assert "https://" not in page.text
    assert client.get("/api/docs/../node.key").status_code == 404
    assert client.get("/api/docs/index.html").status_code == 404
