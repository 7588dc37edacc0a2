"""Errors as RFC 9457 problem details: one exception type for the domains, handlers for the rest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "urn:nubes:problem:"


class FieldError(BaseModel):
    """One invalid input: where it is, what is wrong, and a stable machine-readable kind."""

    loc: list[str | int] = Field(description="Path to the bad value, e.g. ['body', 'name'].")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document; `type` is stable and safe to branch on."""

    type: str = Field(examples=[f"{PROBLEM_BASE}not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class NubesError(Exception):
    """Base of every error a service raises on purpose; the API turns it into a problem response."""

    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
        errors: list[FieldError] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers
        # Extra members of the problem document (RFC 9457 extensions), e.g. the token of a next sign-in step.
        self.extensions = extensions
        # True when what the request wrote must survive the error (audit rows, a revoked token family).
        self.keep_changes = keep_changes
        self.errors = errors


class BadRequest(NubesError):
    """The request is well-formed but cannot be carried out as asked."""


class Unauthorized(NubesError):
    """No credentials, or credentials that are not (or no longer) valid."""

    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(NubesError):
    """The caller is known but may not do this."""

    status, code, title = 403, "forbidden", "Forbidden"


class UnprocessableEntity(NubesError):
    """The body parsed and matched the schema but breaks a rule (a weak password, a reserved name)."""

    status, code, title = 422, "validation-error", "Invalid request"


class TooManyRequests(NubesError):
    """A rate limit was hit; `Retry-After` says when to try again."""

    status, code, title = 429, "too-many-requests", "Too many requests"


class NotFound(NubesError):
    """The object does not exist or the caller may not know that it does."""

    status, code, title = 404, "not-found", "Not found"


class Conflict(NubesError):
    """The request clashes with the current state (a name taken, a stale version)."""

    status, code, title = 409, "conflict", "Conflict"


class PayloadTooLarge(NubesError):
    """The request body is larger than the route accepts."""

    status, code, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(NubesError):
    """The request body has a content type the route does not read."""

    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class ServiceUnavailable(NubesError):
    """A dependency the request needs (database, storage) is not answering."""

    status, code, title = 503, "service-unavailable", "Service unavailable"


# Status codes raised by Starlette/FastAPI themselves, mapped to stable problem types.
_HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
    500: "internal-error",
    503: "service-unavailable",
}


def too_large_detail(limit: object) -> str:
    """What a 413 says: the limit, and where large content goes instead."""
    allowed = f"at most {limit} bytes" if isinstance(limit, int) else "less"
    return f"This endpoint accepts {allowed}; send less, or use the upload endpoints for files."


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    title: str | None = None,
    detail: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """Render a problem document with the right media type and the request's id."""
    request_id = request.state.request_id if request is not None and hasattr(request.state, "request_id") else None
    problem = Problem(
        type=PROBLEM_BASE + code,
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        request_id=request_id,
        errors=list(errors) if errors is not None else None,
    )
    return ProblemResponse(
        {**(extensions or {}), **problem.model_dump(exclude_none=True)},
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


class ProblemResponse(JSONResponse):
    """A problem document, rendered ASCII-only: a detail that echoes hostile input (a lone surrogate) still encodes."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _field_errors(raw: Sequence[Any]) -> list[FieldError]:
    return [
        FieldError(
            loc=[part for part in error.get("loc", ()) if isinstance(part, (str, int))], msg=error["msg"], type=error["type"]
        )
        for error in raw
    ]


async def _on_nubes_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, NubesError):
        raise exc
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    code = _HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase else None
    if exc.status_code == 404 and detail is None:
        detail = f"No route matches {request.method} {request.url.path}."
    if exc.status_code == 413 and detail in {None, "Content Too Large"}:
        detail = too_large_detail(request.scope.get("starlette.max_body_size"))
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        detail = detail or f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}."
    return problem_response(request, status=exc.status_code, code=code, detail=detail, headers=headers)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's own Allow names only the first route's)."""
    allowed = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    raw = list(exc.errors())
    broken_json = next((error for error in raw if error.get("type") == "json_invalid"), None)
    if broken_json is not None:
        reason = (broken_json.get("ctx") or {}).get("error", "invalid JSON")
        position = broken_json.get("loc", ("body", "?"))[-1]
        return problem_response(
            request,
            status=400,
            code="malformed-json",
            title="Malformed JSON",
            detail=f"The request body is not valid JSON: {reason} at character {position}.",
        )
    errors = _field_errors(raw)
    fields = ", ".join(".".join(str(part) for part in error.loc[1:] or error.loc) for error in errors)
    return problem_response(
        request,
        status=422,
        code="validation-error",
        title="Invalid request",
        detail=f"Check these fields: {fields}." if fields else "The request is invalid.",
        errors=errors,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app can raise come out as problem+json."""
    app.add_exception_handler(NubesError, _on_nubes_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "description": "Client error", "content": {PROBLEM_JSON: {}}},
    "5XX": {"model": Problem, "description": "Server error", "content": {PROBLEM_JSON: {}}},
}
