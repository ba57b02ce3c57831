"""The servers under test, each a subprocess on loopback, with its peak memory sampled.

kizuna: ``kizuna init`` on a fresh folder (embedded SQLite), ``kizuna token create`` for the
home party, ``kizuna serve``. medallion 3.0.0: its memory backend, configured by a JSON file with
one user and a data file declaring one API root and one writable collection.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
from taxii_client import MEDIA_TAXII, Target

from kizuna.core.taxii import INBOX, RELEASED

BIN = Path(sys.executable).parent
HOME_PARTY = "Bench CSIRT"
MEDALLION_USER, MEDALLION_PASSWORD = "bench", "bench-password"
MEDALLION_ROOT = "bench"
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RssSampler:
    """Samples a process's resident set size; ``peak`` is the largest seen, in bytes.

    On Linux the kernel's own high-water mark (VmHWM) is read too, so a short spike between
    two samples is not missed.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.peak = max(self.peak, self.process.memory_info().rss)
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak = max(self.peak, int(line.split()[1]) * 1024)

    def stop(self) -> int:
        self.sample()
        self._stop.set()
        self._thread.join()
        return self.peak


class Server:
    """A running server subprocess: its target, its RSS sampler, and a clean stop."""

    def __init__(self, name: str, argv: list[str], log: Path, target: Target, env: dict[str, str]):
        self.name = name
        self.target = target
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.rss = RssSampler(self.process.pid)
        self._peak: int | None = None

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far."""
        times = self.rss.process.cpu_times()
        return float(times.user + times.system)

    def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        headers = {"Accept": MEDIA_TAXII, "Authorization": self.target.authorization}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, headers=headers, timeout=2.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout:.0f} s")

    def stop(self) -> int:
        """SIGTERM (then SIGKILL) this server only; returns its peak RSS in bytes."""
        if self._peak is not None:
            return self._peak
        peak = self._peak = self.rss.stop()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return peak


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _kizuna_env(folder: Path) -> dict[str, str]:
    env = {**os.environ, "KIZUNA_HOME": str(folder)}
    env.pop("KIZUNA_DATABASE_URL", None)  # embedded SQLite, as a fresh node has
    return env


def init_kizuna(folder: Path) -> str:
    """``kizuna init`` a fresh node in ``folder``; returns a token of its home party."""
    env, exe = _kizuna_env(folder), str(BIN / "kizuna")
    _run([exe, "init", "--party-name", HOME_PARTY, "--jurisdiction", "EU", "--kind", "csirt"], env)
    return _run([exe, "token", "create", HOME_PARTY], env).splitlines()[-1]


@contextlib.contextmanager
def kizuna(folder: Path, token: str, synchronous: str | None = None) -> Iterator[Server]:
    """``kizuna serve`` the node in ``folder`` on a free loopback port.

    ``synchronous`` serves it with another SQLite synchronous level than kizuna's FULL.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}/taxii2/root/collections"
    target = Target(
        "kizuna",
        post_url=f"{base}/{INBOX}/objects/",
        read_url=f"{base}/{RELEASED}/objects/",
        authorization=f"Bearer {token}",
    )
    argv = [str(BIN / "kizuna"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if synchronous is not None:
        variant = str(Path(__file__).with_name("kizuna_sync.py"))
        argv = [sys.executable, variant, synchronous, *argv[1:]]
    log = folder / f"serve-{int(time.time())}.log"
    server = Server("kizuna", argv, log, target, _kizuna_env(folder))
    try:
        server.wait_ready(f"http://127.0.0.1:{port}/taxii2/")
        yield server
    finally:
        server.stop()


def _medallion_data(port: int) -> dict[str, object]:
    root = f"http://127.0.0.1:{port}/{MEDALLION_ROOT}/"
    return {
        "/discovery": {
            "title": "medallion (benchmark)",
            "description": "medallion 3.0.0, memory backend",
            "default": root,
            "api_roots": [root],
        },
        MEDALLION_ROOT: {
            "information": {
                "title": "benchmark root",
                "description": "one writable collection",
                "versions": [MEDIA_TAXII],
                "max_content_length": 100 * 1024 * 1024,
            },
            "status": [],
            "collections": [
                {
                    "id": MEDALLION_COLLECTION,
                    "title": "benchmark",
                    "description": "indicators posted by the benchmark",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }


@contextlib.contextmanager
def medallion(folder: Path) -> Iterator[Server]:
    """medallion 3.0.0 with its memory backend, served on a free loopback port."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    data = folder / "data.json"
    data.write_text(json.dumps(_medallion_data(port)))
    config = folder / "config.json"
    backend = {
        "module": "medallion.backends.memory_backend",
        "module_class": "MemoryBackend",
        "filename": str(data),
        # Its `next` sessions expire this long after the first page; its first page alone can
        # take minutes, so give paging an hour rather than the default 30 s.
        "session_timeout": 3600,
    }
    config.write_text(
        json.dumps(
            {
                "backend": backend,
                "users": {MEDALLION_USER: MEDALLION_PASSWORD},
                "taxii": {"max_page_size": 100},
            }
        )
    )
    url = f"http://127.0.0.1:{port}/{MEDALLION_ROOT}/collections/{MEDALLION_COLLECTION}/objects/"
    credentials = base64.b64encode(f"{MEDALLION_USER}:{MEDALLION_PASSWORD}".encode()).decode()
    authorization = f"Basic {credentials}"
    target = Target("medallion", post_url=url, read_url=url, authorization=authorization)
    argv = [
        sys.executable, "-m", "medallion.scripts.run",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "WARN", str(config),
    ]  # fmt: skip
    server = Server("medallion", argv, folder / "serve.log", target, dict(os.environ))
    try:
        server.wait_ready(f"http://127.0.0.1:{port}/taxii2/")
        yield server
    finally:
        server.stop()
