"""kizuna's one error hierarchy.

Every error carries a stable ``code``, a ``message`` a user can act on, and the HTTP ``status``
the faces answer with. The faces translate them: TAXII error resource, JSON problem, CLI message
and exit code. Nothing else is raised across a layer boundary on purpose.

    KizunaError
    ├── InvalidInput            400  malformed request or file
    │   ├── InvalidJson         400  not JSON, or not the JSON shape expected
    │   ├── InvalidStix         422  a STIX object breaks the specification
    │   ├── UnsupportedSpecVersion 422  STIX 2.0 content (and other versions)
    │   ├── InvalidCsaf         422  a CSAF document or advisory model breaks CSAF 2.0, or its hash
    │   ├── InvalidCursor       400  a TAXII ``next`` value this node did not issue
    │   └── InvalidFilter       400  a TAXII ``match[...]``/``added_after``/``limit`` value
    ├── VersionConflict         409  same (id, modified), different content
    ├── NotAuthenticated        401  no or wrong credentials
    ├── Forbidden               403  authenticated, but not allowed
    │   └── OriginatorMismatch  403  an object names another party as its creator
    ├── NotFound                404  unknown collection, object, status, party, token
    ├── NotAcceptable           406  Accept header kizuna cannot satisfy
    ├── TooLarge                413  body beyond ``max_content_length``
    ├── UnsupportedMediaType    415  Content-Type kizuna does not take
    ├── TooManyRequests         429  too many failed logins; try again later
    ├── AlreadyExists           409  a party, token name or node that exists already
    └── NodeNotInitialised      409  ``kizuna init`` has not been run for this home
"""

from __future__ import annotations


class KizunaError(Exception):
    """Base of every error kizuna raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidInput(KizunaError):
    code = "invalid-input"
    status = 400


class InvalidJson(InvalidInput):
    code = "invalid-json"
    status = 400


class InvalidStix(InvalidInput):
    code = "invalid-stix"
    status = 422


class UnsupportedSpecVersion(InvalidStix):
    code = "unsupported-spec-version"
    status = 422


class InvalidCsaf(InvalidInput):
    code = "invalid-csaf"
    status = 422


class InvalidCursor(InvalidInput):
    code = "invalid-cursor"
    status = 400


class InvalidFilter(InvalidInput):
    code = "invalid-filter"
    status = 400


class TooManyRequests(KizunaError):
    code = "too-many-requests"
    status = 429


class VersionConflict(KizunaError):
    code = "version-conflict"
    status = 409


class NotAuthenticated(KizunaError):
    code = "not-authenticated"
    status = 401


class Forbidden(KizunaError):
    code = "forbidden"
    status = 403


class OriginatorMismatch(Forbidden):
    code = "originator-mismatch"
    status = 403


class NotFound(KizunaError):
    code = "not-found"
    status = 404


class NotAcceptable(KizunaError):
    code = "not-acceptable"
    status = 406


class TooLarge(KizunaError):
    code = "too-large"
    status = 413


class UnsupportedMediaType(KizunaError):
    code = "unsupported-media-type"
    status = 415


class AlreadyExists(KizunaError):
    code = "already-exists"
    status = 409


class NodeNotInitialised(KizunaError):
    code = "node-not-initialised"
    status = 409
