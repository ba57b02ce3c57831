"""TAXII 2.1 media-type negotiation: 406 for an Accept, 415 for a Content-Type kizuna cannot do."""

from __future__ import annotations

from fastapi import Request

from kizuna.errors import NotAcceptable, UnsupportedMediaType

TAXII = "application/taxii+json"


def _ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        params = {}
        for p in pieces[1:]:
            key, _, value = p.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        if media:
            out.append((media, params))
    return out


def _acceptable(media: str, params: dict[str, str]) -> bool:
    if params.get("q") in ("0", "0.0", "0.00", "0.000"):
        return False
    if media in ("*/*", "application/*"):
        return True
    return media == TAXII and params.get("version", "2.1") == "2.1"


async def accept_taxii(request: Request) -> None:
    """A TAXII request must accept ``application/taxii+json;version=2.1`` (bare is fine)."""
    header = request.headers.get("accept")
    if header is None:
        return
    if not any(_acceptable(m, p) for m, p in _ranges(header)):
        raise NotAcceptable(
            f"this TAXII server answers only application/taxii+json;version=2.1, "
            f"and the request accepts {header!r}"
        )


async def content_taxii(request: Request) -> None:
    """A TAXII POST body must be ``application/taxii+json`` (version 2.1 if given)."""
    header = request.headers.get("content-type")
    ranges = _ranges(header or "")
    if not ranges:
        raise UnsupportedMediaType(
            "a TAXII POST needs Content-Type: application/taxii+json;version=2.1"
        )
    media, params = ranges[0]
    if media != TAXII or params.get("version", "2.1") != "2.1":
        raise UnsupportedMediaType(
            f"Content-Type {header!r} is not application/taxii+json;version=2.1"
        )
