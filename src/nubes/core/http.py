"""ASGI middleware every request passes through: request id, access log, crash guard, security headers, body limits.

Each request pays for these layers, so they are plain ASGI callables that touch the scope directly
(no Request objects, no BaseHTTPMiddleware); `make bench` keeps the cost visible.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from typing import Any

import orjson
import structlog
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nubes.core.errors import problem_response, too_large_detail

log = structlog.get_logger("nubes.http")


class RowsJSON(JSONResponse):
    """An answer built from database rows the schema already vouches for, written by orjson with no validation pass.

    The route keeps declaring its `response_model`, so the OpenAPI schema stays exact; UTC times end in `Z`
    and UUIDs are strings, as pydantic writes them, so the bytes are the ones FastAPI would have sent
    (tests/files/test_rows_json.py reads every such route back through its model and compares).
    """

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_driver_uuid, option=orjson.OPT_UTC_Z)


def _driver_uuid(value: object) -> str:
    """A driver's own UUID type (asyncpg's subclasses `uuid.UUID`; orjson writes only the exact class)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


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
        request_id = offered if offered and _REQUEST_ID.fullmatch(offered) else os.urandom(16).hex()
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
            elif kind == "websocket" and not response_started:
                _log_handshake(scope, message)
                response_started = True
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


# How a WebSocket handshake ended, by the app's first message (the close before an accept is a 403, as servers answer).
_HANDSHAKE_STATUS = {"websocket.accept": 101, "websocket.close": 403}


def _log_handshake(scope: Scope, message: Message) -> None:
    """One line per WebSocket handshake, whatever the server logs itself (the query string is redacted on the way out)."""
    status = message.get("status") or _HANDSHAKE_STATUS.get(message["type"])
    if status is None:
        return
    query = scope.get("query_string", b"")
    target = f"{scope['path']}?{query.decode('latin-1')}" if query else scope["path"]
    client = scope.get("client")
    log.info("websocket", path=target, status=status, client=client[0] if client else None)


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


class SlowBodyMiddleware:
    """Cut off request bodies that trickle in, and cap how many bodies one client address sends at once.

    uvicorn bounds neither: its keep-alive timeout covers only the quiet time between two requests on a
    connection, and `h11_max_incomplete_event_size` only the size of headers (h11 only). So a body that stops,
    or arrives a few bytes at a time, would hold a connection, a task and a temporary file for as long as the
    client likes. Each wait for the next chunk is bounded by `idle_timeout`; every `rate_window`
    seconds spent waiting, the bytes received in that time must average `min_rate` per second. Time the
    server spends between reads (writing to disk or S3) does not count against the client. A body cut off is
    handed to the route as a client that went away (so the upload code cleans up as it does for one), and
    the client gets a 408 problem with `Connection: close`. Requests without a body pass straight through.
    """

    def __init__(self, app: ASGIApp, *, idle_timeout: float, min_rate: int, rate_window: float, max_per_ip: int) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self.min_rate = min_rate
        self.rate_window = rate_window
        self.max_per_ip = max_per_ip
        self.in_flight: dict[str, int] = {}  # client address -> bodies being received now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else ""
        if self.max_per_ip and self.in_flight.get(address, 0) >= self.max_per_ip:
            log.info("request.body_refused", client=address, in_flight=self.max_per_ip)
            await _too_many_bodies(scope, self.max_per_ip)(scope, receive, send)
            return
        self.in_flight[address] = self.in_flight.get(address, 0) + 1
        body = _TimedBody(self, address, receive, send)
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            # What a route raises on a body that stopped (ClientDisconnect and the like) is expected, not a crash.
            if body.cut_off is None or body.response_started:
                raise
        finally:
            body.done_receiving()
        if body.cut_off is not None and not body.response_started:
            await _body_too_slow(scope, body.cut_off)(scope, receive, send)

    def release(self, address: str) -> None:
        """One body of `address` is no longer being received."""
        left = self.in_flight[address] - 1
        if left:
            self.in_flight[address] = left
        else:
            del self.in_flight[address]


class _TimedBody:
    """One request's body under the clock: the receive the route reads, the send that hides its answer once cut off."""

    def __init__(self, guard: SlowBodyMiddleware, address: str, receive: Receive, send: Send) -> None:
        self.guard = guard
        self.address = address
        self._receive = receive
        self._send = send
        self.receiving = True
        self.cut_off: str | None = None  # why, once the body was cut off
        self.response_started = False
        self.window_waited = 0.0
        self.window_bytes = 0

    def done_receiving(self) -> None:
        """Give back the address's slot (once)."""
        if self.receiving:
            self.receiving = False
            self.guard.release(self.address)

    async def receive(self) -> Message:
        """The next message, or a disconnect when the body stalls or falls under the minimum rate."""
        if self.cut_off is not None:
            return {"type": "http.disconnect"}
        if not self.receiving:
            return await self._receive()
        guard = self.guard
        started = time.monotonic()
        try:
            async with asyncio.timeout(guard.idle_timeout):
                message = await self._receive()
        except TimeoutError:
            self.cut_off = f"nothing arrived for {guard.idle_timeout:g} s"
        else:
            self.window_waited += time.monotonic() - started
            if message["type"] != "http.request" or not message.get("more_body", False):
                self.done_receiving()
                return message
            self.window_bytes += len(message.get("body", b""))
            if not guard.min_rate or self.window_waited < guard.rate_window:
                return message
            if self.window_bytes >= guard.min_rate * self.window_waited:
                self.window_waited, self.window_bytes = 0.0, 0
                return message
            self.cut_off = f"under {guard.min_rate} bytes/s over {self.window_waited:.0f} s"
        self.done_receiving()
        log.info("request.body_cut_off", client=self.address, reason=self.cut_off)
        # The route sees a client that went away, and cleans up as it does for one.
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """Pass the route's answer on, unless the body was cut off first (the client gets a 408 instead)."""
        if self.cut_off is not None and not self.response_started:
            return
        self.response_started = self.response_started or message["type"] == "http.response.start"
        await self._send(message)


def _has_body(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if (key == b"content-length" and value not in {b"0", b""}) or key == b"transfer-encoding":
            return True
    return False


def _body_too_slow(scope: Scope, reason: str) -> ASGIApp:
    return problem_response(
        Request(scope),
        status=408,
        code="body-too-slow",
        title="Request body too slow",
        detail=f"The request body arrived too slowly ({reason}) and was cut off. Retry on a steadier connection; "
        "a resumable (tus) upload can continue from the offset a HEAD request reports.",
        headers={"Connection": "close"},
    )


def _too_many_bodies(scope: Scope, cap: int) -> ASGIApp:
    return problem_response(
        Request(scope),
        status=429,
        code="too-many-bodies",
        title="Too many uploads at once",
        detail=f"This address is already sending {cap} request bodies at once; wait for one to finish, then retry.",
        headers={"Connection": "close", "Retry-After": "5"},
    )
