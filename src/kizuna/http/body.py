"""Request bodies read with a hard cap, so no client can make the node buffer without end."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from kizuna.errors import InvalidInput, InvalidJson, TooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or TooLarge (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidInput("Content-Length is not a number")
        if int(declared) > limit:
            raise TooLarge(f"the body is {declared} bytes; this node takes at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the body is over {limit} bytes, the most this node takes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON: TooLarge past ``limit`` bytes, InvalidJson if it is not JSON."""
    body = await read_body(request, limit)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"the request body is not JSON: {exc}") from exc
