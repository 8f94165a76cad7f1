"""Error types that cross RPC intact (see kit.remote). The gateway maps each to one HTTP
status (API.md). Plain exceptions: domain code may raise them."""
from __future__ import annotations

import json
from typing import Any

_WIRE = "gongkao-error:"


class ServiceError(Exception):
    """Base: a refusal the caller should show to the person, in Chinese."""

    status = 400
    default_code = "invalid"

    def __init__(self, message: str, code: str | None = None, field: str | None = None,
                 details: Any = None):
        if code is None and field is None and details is None and message.startswith(_WIRE):
            # Back from the wire: nameko passes the args it sent (see below).
            wire = json.loads(message[len(_WIRE):])
            message, code, field, details = wire["message"], wire["code"], wire["field"], wire["details"]
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details
        # nameko stringifies every scalar in args (None becomes "None"); one JSON
        # argument keeps the types intact across RPC.
        super().__init__(_WIRE + json.dumps({"message": self.message, "code": self.code, "field": field,
                                             "details": details}, ensure_ascii=False))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details is not None:
            body["details"] = self.details
        return body


def _register(cls):
    REMOTE_ERRORS.append(cls)
    return cls


REMOTE_ERRORS: list[type] = []


@_register
class InvalidInput(ServiceError):
    status, default_code = 400, "invalid"


@_register
class Unauthenticated(ServiceError):
    status, default_code = 401, "unauthenticated"


@_register
class Forbidden(ServiceError):
    status, default_code = 403, "forbidden"


@_register
class NotFound(ServiceError):
    status, default_code = 404, "not_found"


@_register
class Conflict(ServiceError):
    status, default_code = 409, "conflict"


@_register
class TooLarge(ServiceError):
    status, default_code = 413, "too_large"


@_register
class UnsupportedMedia(ServiceError):
    status, default_code = 415, "unsupported_media_type"


@_register
class RuleNotMet(ServiceError):
    status, default_code = 422, "rule_not_met"


@_register
class Locked(ServiceError):
    status, default_code = 423, "locked"


@_register
class TooManyRequests(ServiceError):
    status, default_code = 429, "too_many_requests"


@_register
class Unavailable(ServiceError):
    """An outside system (the payment platform, an SMS gateway) did not answer: try later."""

    status, default_code = 503, "service_unavailable"


_register(ServiceError)
