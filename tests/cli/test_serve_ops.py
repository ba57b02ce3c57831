"""`kizuna serve` for operators: one clear error on a busy port, HTTPS with --tls-cert/--tls-key
(a self-signed certificate made here), and the health and readiness endpoints."""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic import command
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from kizuna.cli.main import cli
from kizuna.http.app import create_app
from kizuna.services.node import Node
from kizuna.storage import migrate


def init(home: Path) -> None:
    made = CliRunner().invoke(
        cli, ["--home", str(home), "init", "--party-name", "CERT-EU", "--jurisdiction", "EU",
              "--kind", "csirt"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output


def test_serve_on_a_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    init(tmp_path / "n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["--home", str(tmp_path / "n"), "serve", "--port", str(port)]
        )
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: cannot listen on 127.0.0.1:")
    assert "already in use" in result.stderr and "serving" not in result.output
    assert "Traceback" not in result.output


def test_tls_needs_both_files(tmp_path: Path) -> None:
    init(tmp_path / "n")
    (tmp_path / "c.pem").write_text("x")
    result = CliRunner().invoke(
        cli, ["--home", str(tmp_path / "n"), "serve", "--tls-cert", str(tmp_path / "c.pem")]
    )
    assert result.exit_code == 1 and "--tls-key" in result.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kizuna test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_with_tls_answers_https_health_and_readiness(tmp_path: Path) -> None:
    init(tmp_path / "n")
    cert, key = self_signed(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from kizuna.cli.main import main; main()",
         "--home", str(tmp_path / "n"), "serve",
         "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        url = f"https://127.0.0.1:{port}"
        trusted = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", verify=trusted, timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = httpx.get(f"{url}/readyz", verify=trusted, timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        with pytest.raises(httpx.ConnectError):  # the certificate is checked: not any will do
            httpx.get(f"{url}/healthz", timeout=5)
        with pytest.raises(httpx.RemoteProtocolError):  # plain HTTP gets nothing
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        server.send_signal(signal.SIGTERM)
        out = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, out
    assert f"https://127.0.0.1:{port}/" in out


def test_readiness_names_what_is_wrong(sqlite_node: Node) -> None:
    client = TestClient(create_app(sqlite_node))
    assert client.get("/readyz").json() == {"status": "ready", "reasons": []}
    config = migrate._config()
    with sqlite_node.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert "kizuna db upgrade" in behind.json()["reasons"][0]
    migrate.upgrade(sqlite_node.db)
    (sqlite_node.home / "node.key").rename(sqlite_node.home / "elsewhere")
    gone = client.get("/readyz")
    assert gone.status_code == 503 and "node.key" in gone.json()["reasons"][0]
    assert client.get("/healthz").status_code == 200  # alive all the same


ROOT = Path(__file__).resolve().parents[2]


def test_the_deployment_files_run_commands_that_exist() -> None:
    """The systemd unit's and the image's kizuna command lines parse (options included)."""
    unit = (ROOT / "deploy" / "kizuna.service").read_text()
    lines = [
        line.split("=", 1)[1].split()[1:]  # the words after /opt/kizuna/bin/kizuna
        for line in unit.splitlines()
        if line.startswith(("ExecStart=", "ExecStartPre="))
    ]
    docker = (ROOT / "Dockerfile").read_text()
    [cmd] = [line for line in docker.splitlines() if line.startswith("CMD")]
    lines.append([w.strip('"[], ') for w in cmd[4:].split(",")][1:])
    assert len(lines) == 3
    for args in lines:
        probe = CliRunner().invoke(cli, [*args, "--help"])
        assert probe.exit_code == 0, (args, probe.output)
    assert "USER kizuna" in docker and "-m 0700 /var/lib/kizuna" in docker
