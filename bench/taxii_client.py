"""One TAXII 2.1 client for every server under test: POST envelopes, page through a collection.

The same code drives kizuna and medallion; only the URLs and the Authorization header differ.
One keep-alive HTTP/1.1 connection, so the numbers measure the servers, not connection set-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx
import orjson

MEDIA_TAXII = "application/taxii+json;version=2.1"


@dataclass(frozen=True)
class Target:
    """A server under test: where to POST, where to read back, and how to authenticate."""

    name: str
    post_url: str
    read_url: str
    authorization: str


@dataclass
class PostResult:
    """POSTs to one server; ``seconds`` sums the requests' latencies."""

    objects: int = 0
    requests: int = 0
    seconds: float = 0.0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0


@dataclass
class ReadResult:
    objects: int = 0
    seconds: float = 0.0
    complete: bool = False
    latencies: list[float] = field(default_factory=list)
    stopped: str | None = None  # why paging stopped early (time box), if it did
    server_cpu_s: float = 0.0


class TaxiiClient:
    """A keep-alive TAXII client bound to one target."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.http = httpx.Client(
            headers={"Accept": MEDIA_TAXII, "Authorization": target.authorization},
            timeout=httpx.Timeout(600.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    def close(self) -> None:
        self.http.close()

    def post(self, result: PostResult, count: int, body: bytes) -> None:
        """POST one envelope of ``count`` objects; add its time and outcome to ``result``."""
        sent = time.perf_counter()
        response = self.http.post(
            self.target.post_url, content=body, headers={"Content-Type": MEDIA_TAXII}
        )
        elapsed = time.perf_counter() - sent
        if response.status_code != 202:
            raise RuntimeError(
                f"{self.target.name}: POST answered {response.status_code}: {response.text[:300]}"
            )
        status = orjson.loads(response.content)
        result.latencies.append(elapsed)
        result.seconds += elapsed
        result.failures += int(status.get("failure_count", 0))
        result.objects += count
        result.requests += 1

    def read_all(self, limit: int, time_box: float | None = None) -> ReadResult:
        """Page through the read collection with ``limit``, following ``next`` while ``more``.

        Stops after ``time_box`` seconds if given (a page still in flight is abandoned).
        """
        result = ReadResult()
        params: dict[str, str] = {"limit": str(limit)}
        start = time.perf_counter()
        deadline = start + time_box if time_box is not None else None
        while True:
            timeout = 600.0
            if deadline is not None:
                timeout = deadline - time.perf_counter()
                if timeout <= 0:
                    result.stopped = "time box"
                    break
            sent = time.perf_counter()
            try:
                response = self.http.get(
                    self.target.read_url, params=params, timeout=httpx.Timeout(timeout)
                )
            except httpx.TimeoutException:
                result.stopped = "time box"
                break
            result.latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                raise RuntimeError(
                    f"{self.target.name}: GET answered {response.status_code}: "
                    f"{response.text[:300]}"
                )
            envelope = orjson.loads(response.content)
            result.objects += len(envelope.get("objects", ()))
            # TAXII 2.1 §3.3: more=true comes with next; medallion omits "more" on an empty
            # envelope, and its "next" is a server-side session id rather than a cursor.
            if not envelope.get("more"):
                result.complete = True
                break
            cursor = envelope.get("next")
            if not cursor:
                raise RuntimeError(f"{self.target.name}: more=true without next")
            params = {"limit": str(limit), "next": str(cursor)}
        result.seconds = time.perf_counter() - start
        return result

    def walk(self, limit: int, count: int, cursor: str | None) -> tuple[list[float], str | None]:
        """Read ``count`` pages from ``cursor`` (None: the start), wrapping around at the end.

        Returns each page's latency and where to go on from; for interleaving several servers.
        """
        latencies = []
        for _ in range(count):
            params = {"limit": str(limit)}
            if cursor is not None:
                params["next"] = cursor
            sent = time.perf_counter()
            response = self.http.get(self.target.read_url, params=params)
            latencies.append(time.perf_counter() - sent)
            response.raise_for_status()
            envelope = orjson.loads(response.content)
            cursor = str(envelope["next"]) if envelope.get("more") else None
        return latencies, cursor
