"""The uvicorn configuration of ``kizuna serve``, with deadlines for slow clients.

uvicorn times out only an idle keep-alive connection: a client that opens a connection and
sends its headers, or its body, a byte at a time (slowloris) holds it forever. This protocol
gives each request a deadline for its headers (from the connection, or the end of the last
response) and one for its body (from the end of the headers); past either, the node answers
408 if it has not answered yet and closes the connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
)


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with header and body deadlines (seconds, from config)."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, what, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, what: str, seconds: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            message = f"the request's {what} did not arrive within {seconds:g} s".encode()
            self.transport.write(_TIMEOUT % (len(message), message))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout, "body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(self.header_timeout, "headers")


def protocol_for(header_timeout: float, body_timeout: float) -> type[DeadlineProtocol]:
    """A protocol class with these deadlines (uvicorn builds one instance per connection)."""
    return type(
        "KizunaHttp",
        (DeadlineProtocol,),
        {"header_timeout": float(header_timeout), "body_timeout": float(body_timeout)},
    )


def config(app: Any, settings: dict[str, Any], **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for a node's app: deadlines from the node's settings."""
    return uvicorn.Config(
        app,
        http=protocol_for(settings["request_header_timeout"], settings["request_body_timeout"]),
        timeout_keep_alive=5,
        log_config=None,
        access_log=False,
        **options,
    )
