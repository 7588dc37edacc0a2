"""ASGI middleware every request passes through: request id, access log, crash guard, security headers."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence

import structlog
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nubes.core.errors import problem_response

log = structlog.get_logger("nubes.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Give each request an id (kept from `X-Request-ID` when sane), log it, and turn crashes into a 500 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        offered = request.headers.get("x-request-id", "")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request.crashed", method=request.method, path=request.url.path)
            if response_started or scope["type"] != "http":
                raise
            response = problem_response(
                request,
                status=500,
                code="internal-error",
                title="Internal server error",
                detail=f"Something went wrong on our side. Quote request id {request_id} when reporting it.",
            )
            await response(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                log.info(
                    "request",
                    method=request.method,
                    path=request.url.path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    client=request.client.host if request.client else None,
                )
            structlog.contextvars.clear_contextvars()


class BodyLimitMiddleware:
    """Enforce the default body limit on routes that declare none, whether the size is declared or streamed.

    The route is known only once routing ran, so the check happens when the handler reads the body.
    Routes that need more (uploads) declare FastAPI's `max_body_size=` and FastAPI enforces that.
    """

    def __init__(self, app: ASGIApp, *, default_limit: int) -> None:
        self.app = app
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Request(scope).headers.get("content-length")
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            route = scope.get("route")
            if getattr(route, "max_body_size", None) is not None:
                return await receive()
            too_large = HTTPException(
                413,
                f"This endpoint accepts at most {self.default_limit} bytes; send less, or use the upload endpoints for files.",
            )
            if declared is not None and (not declared.isdigit() or int(declared) > self.default_limit):
                raise too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.default_limit:
                    raise too_large
            return message

        await self.app(scope, limited_receive, send)


class BodyLimitProblemMiddleware:
    """Turn Starlette's plain-text 413 (a declared body over the route's `max_body_size`) into problem+json.

    FastAPI enforces the limits (app-wide `max_body_size`, per-route overrides); when the declared
    Content-Length is already too big, Starlette answers with text/plain itself, outside the
    exception handlers. This rewrites that one answer so clients see the same problem document.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replacing = False

        async def rewriting_send(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start" and message["status"] == 413:
                content_type = MutableHeaders(scope=message).get("content-type", "")
                replacing = content_type.startswith("text/plain")
            if not replacing:
                await send(message)
                return
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                limit = scope.get("starlette.max_body_size")
                allowed = f"at most {limit} bytes" if isinstance(limit, int) else "less"
                response = problem_response(
                    Request(scope),
                    status=413,
                    code="payload-too-large",
                    title="Request body too large",
                    detail=f"This endpoint accepts {allowed}; send less, or use the upload endpoints for files.",
                )
                await response(scope, receive, send)

        await self.app(scope, receive, rewriting_send)


# The UI is served from our own origin only; nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: Sequence[tuple[str, str]] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
