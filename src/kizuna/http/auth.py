"""Who is calling: HTTP Basic (party name or id, token) or ``Authorization: Bearer TOKEN``."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from kizuna.core.parties import Party
from kizuna.errors import NotAuthenticated
from kizuna.services import tokens
from kizuna.services.node import Node

CHALLENGE = 'Basic realm="kizuna", charset="UTF-8", Bearer realm="kizuna"'


def _credentials(header: str) -> tuple[str | None, str]:
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return None, value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            # ValueError also covers non-ASCII header text, which b64decode refuses outright.
            raise NotAuthenticated("the Basic credentials are not valid base64 UTF-8") from exc
        user, sep, password = decoded.partition(":")
        if not sep:
            raise NotAuthenticated("Basic credentials need user:password")
        if not password.isprintable():
            # Control characters (NUL among them) can be in no token; PostgreSQL cannot even
            # compare text holding NUL, so refuse before any lookup.
            raise NotAuthenticated("the token is unknown, wrong or revoked")
        return user, password
    raise NotAuthenticated("use HTTP Basic (party name or id, token) or Bearer TOKEN")


def _presented(request: Request) -> tuple[str | None, str]:
    header = request.headers.get("authorization")
    if not header:
        raise NotAuthenticated("authentication required: HTTP Basic or Bearer token")
    return _credentials(header)


def caller(request: Request) -> Party:
    """The authenticated party; NotAuthenticated (401 with a challenge) otherwise."""
    user, token = _presented(request)
    node: Node = request.app.state.node
    party, person = tokens.authenticate_person(node, token, user)
    request.state.party = party.id
    request.state.user = person
    # The token's id (its public part, as `kizuna token list` shows it), never the secret.
    request.state.token = token.split("_")[1] if token.count("_") >= 2 else None
    return party


def metrics_reader(request: Request) -> None:
    """A home party's user or a monitoring token (401 without credentials, 403 for a partner)."""
    user, token = _presented(request)
    node: Node = request.app.state.node
    tokens.may_read_metrics(node, token, user)
