"""ASGI middleware every request passes through: request id, access log, crash guard, security headers, body limit.

Each request pays for these layers, so they are plain ASGI callables that touch the scope directly
(no Request objects, no BaseHTTPMiddleware); `make bench` keeps the cost visible.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nubes.core.errors import problem_response, too_large_detail

log = structlog.get_logger("nubes.http")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

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

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
_SECURITY_HEADER_NAMES = tuple(name.lower().encode() for name, _ in SECURITY_HEADERS)
_SECURITY_HEADER_PAIRS = tuple((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class EdgeMiddleware:
    """The outermost layer of the app.

    - gives each request an id (kept from `X-Request-ID` when sane) for the logs and the response;
    - logs one line per request;
    - adds the security headers a response does not set itself;
    - answers a crash with a 500 problem that quotes the id (never a stack trace);
    - rewrites Starlette's plain-text 413 (a route's own `max_body_size`) into problem+json.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        offered = _header(scope, b"x-request-id")
        request_id = offered if offered and _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        replacing_413 = False

        async def edge_send(message: Message) -> None:
            nonlocal status, response_started, replacing_413
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 413 and _is_plain_text(message):
                    replacing_413 = True
                    return
                response_started = True
                headers: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
                present = {key.lower() for key, _ in headers}
                headers.extend(pair for pair in _SECURITY_HEADER_PAIRS if pair[0] not in present)
                headers.append((b"x-request-id", request_id.encode()))
            elif replacing_413:
                if not message.get("more_body", False):
                    replacing_413 = False
                    await _body_too_large(scope)(scope, receive, edge_send)
                return
            await send(message)

        try:
            await self.app(scope, receive, edge_send)
        except Exception:
            log.exception("request.crashed", method=scope.get("method"), path=scope["path"])
            if response_started or kind != "http":
                raise
            crashed = problem_response(
                Request(scope),
                status=500,
                code="internal-error",
                title="Internal server error",
                detail=f"Something went wrong on our side. Quote request id {request_id} when reporting it.",
            )
            await crashed(scope, receive, edge_send)
        finally:
            if kind == "http":
                client = scope.get("client")
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    client=client[0] if client else None,
                )
            structlog.contextvars.clear_contextvars()


def _is_plain_text(message: Message) -> bool:
    return MutableHeaders(scope=message).get("content-type", "").startswith("text/plain")


def _body_too_large(scope: Scope) -> ASGIApp:
    return problem_response(
        Request(scope),
        status=413,
        code="payload-too-large",
        title="Request body too large",
        detail=too_large_detail(scope.get("starlette.max_body_size")),
    )


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
        limit = self.default_limit
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if getattr(scope.get("route"), "max_body_size", None) is not None:
                return await receive()
            declared = _header(scope, b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise HTTPException(413, too_large_detail(limit))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, too_large_detail(limit))
            return message

        await self.app(scope, limited_receive, send)
