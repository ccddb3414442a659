"""One error base carrying status and code, mapped to JSON by one handler."""

from typing import Any, ClassVar

from pydantic import BaseModel


class KeyhouseError(Exception):
    """An error the client caused or must know about: `{"error": code, "detail": ...}`."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadRequest(KeyhouseError):
    """The request is malformed."""

    status = 400
    code = "invalid_request"


class InvalidInput(KeyhouseError):
    """A field has a value the service refuses."""

    status = 422
    code = "invalid_input"


class Unauthorized(KeyhouseError):
    """No valid credential."""

    status = 401
    code = "unauthorized"


class Forbidden(KeyhouseError):
    """A valid credential that may not do this."""

    status = 403
    code = "forbidden"


class NotFound(KeyhouseError):
    """Not found in the caller's account (or not there at all: we never say which)."""

    status = 404
    code = "not_found"

    def __init__(self, what: str) -> None:
        super().__init__(f"No {what} with that id in this account.")


class Conflict(KeyhouseError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class PayloadTooLarge(KeyhouseError):
    """The body is larger than the service accepts."""

    status = 413
    code = "payload_too_large"


class ServiceUnavailable(KeyhouseError):
    """A dependency (the database) cannot be reached right now."""

    status = 503
    code = "service_unavailable"


class ErrorBody(BaseModel):
    """Every REST error: a stable code and a sentence for people."""

    error: str
    detail: str


def _declared(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Declared on every REST route so that clients (and the schema fuzzer) know each error's shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _declared("Malformed request, or a credential sent in the URL"),
    401: _declared("No credential, or an unknown, revoked or expired one"),
    403: _declared("The credential may not do this (read-only, or not an admin)"),
    404: _declared("Nothing with that id in the caller's account"),
    409: _declared("Conflicts with the current state"),
    413: _declared("The body is too large"),
    422: _declared("A field has a value the service refuses"),
    429: _declared("A rate limit is used up; see Retry-After"),
    503: _declared("The database is unreachable; retry shortly"),
}
