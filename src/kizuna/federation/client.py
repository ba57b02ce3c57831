"""The peer client: a small TAXII 2.1 client over httpx, with the transport injected.

Tests and the demo pass ``httpx.ASGITransport`` to run several nodes in one process; in
production it is plain HTTP(S). It knows kizuna's collections and nothing of the store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from kizuna.core.taxii import GENERATION_HEADER, INBOX, MEDIA_TAXII, RELEASED


class PeerError(Exception):
    """A peer answered with something kizuna cannot use; ``retry`` says whether to try again."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Page:
    """One page of a peer's view of what it releases to us."""

    objects: list[dict[str, Any]]
    more: bool
    last_added: str | None
    policy_generation: int | None


class PeerClient:
    """Talks TAXII 2.1 to one peer with the token that peer issued to us."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": MEDIA_TAXII},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            # httpx times each read and write alone, so a peer that trickles bytes (or a
            # transport that never answers) would hold the sync forever: the whole exchange,
            # body included, gets one deadline.
            async with asyncio.timeout(self.timeout):
                response = await self._client.request(method, url, **kwargs)
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise PeerError(f"{self.base_url} timed out", retry=True) from exc
        except httpx.TransportError as exc:
            raise PeerError(f"{self.base_url} unreachable: {exc}", retry=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise PeerError(f"{self.base_url} answered {response.status_code}", retry=True)
        if response.status_code >= 400:
            detail = response.text[:300]
            raise PeerError(
                f"{self.base_url} refused: {response.status_code} {detail}", retry=False
            )
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise PeerError(f"{self.base_url} sent something that is not JSON", retry=True) from exc

    async def pull(self, added_after: str | None, limit: int) -> Page:
        """One page of the peer's RELEASED collection after ``added_after``."""
        params: dict[str, Any] = {"limit": limit}
        if added_after is not None:
            params["added_after"] = added_after
        response = await self._request(
            "GET", f"/taxii2/root/collections/{RELEASED}/objects/", params=params
        )
        body = self._json(response)
        if not isinstance(body, dict) or not isinstance(body.get("objects", []), list):
            raise PeerError(f"{self.base_url} sent a malformed TAXII envelope", retry=True)
        objects = body.get("objects", [])
        if not all(isinstance(o, dict) for o in objects):
            raise PeerError(f"{self.base_url} sent an envelope with non-objects", retry=True)
        generation = response.headers.get(GENERATION_HEADER)
        return Page(
            objects=objects,
            more=bool(body.get("more", False)),
            last_added=response.headers.get("X-TAXII-Date-Added-Last"),
            policy_generation=int(generation) if generation and generation.isdigit() else None,
        )

    async def push(self, objects: list[dict[str, Any]] | bytes) -> dict[str, Any]:
        """POST objects to the peer's inbox; the status resource."""
        body = objects if isinstance(objects, bytes) else orjson.dumps({"objects": objects})
        response = await self._request(
            "POST",
            f"/taxii2/root/collections/{INBOX}/objects/",
            content=body,
            headers={"Content-Type": MEDIA_TAXII},
        )
        status = self._json(response)
        if not isinstance(status, dict):
            raise PeerError(f"{self.base_url} sent a malformed status", retry=True)
        return status

    async def agreements(self) -> list[dict[str, Any]]:
        """The agreement documents the peer holds that we are party to."""
        response = await self._request(
            "GET", "/api/agreements", headers={"Accept": "application/json"}
        )
        body = self._json(response)
        if not isinstance(body, list):
            raise PeerError(f"{self.base_url} sent a malformed agreement list", retry=True)
        return [
            a["document"]
            for a in body
            if isinstance(a, dict) and isinstance(a.get("document"), dict)
        ]

    async def agreement_notices(self) -> list[dict[str, Any]]:
        """The signed lifecycle notices the peer holds for the agreements we are party to."""
        response = await self._request(
            "GET", "/api/agreements", headers={"Accept": "application/json"}
        )
        body = self._json(response)
        if not isinstance(body, list):
            raise PeerError(f"{self.base_url} sent a malformed agreement list", retry=True)
        return [
            n
            for a in body
            if isinstance(a, dict) and isinstance(a.get("notices"), list)
            for n in a["notices"]
            if isinstance(n, dict)
        ]

    async def whoami(self) -> dict[str, Any]:
        """The peer's node info: its home party, and who it takes us for."""
        response = await self._request("GET", "/api/node", headers={"Accept": "application/json"})
        body = self._json(response)
        if not isinstance(body, dict):
            raise PeerError(f"{self.base_url} sent malformed node info", retry=True)
        return body
