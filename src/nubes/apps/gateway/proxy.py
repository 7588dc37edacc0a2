"""The proxy itself: one HTTP request or WebSocket from the browser to the service and back, streamed both ways.

One aiohttp `ClientSession` per process (`Gateway.client`, opened on first use, closed at shutdown by the loop
`apps/tasks.py` runs) keeps connections to the services alive between requests. Bodies are streamed in constant
memory: the request body as it arrives (counted against the service's limit), the answer as the service sends
it (server-sent events arrive one by one). Connecting is bounded by `CONNECT_TIMEOUT_S`, each read by the
service's own timeout; a service that cannot be reached counts against its circuit (`breaker.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
import structlog
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from yarl import URL

from nubes.apps.gateway import headers as gateway_headers
from nubes.apps.gateway.assertion import Assertions
from nubes.apps.gateway.breaker import Breakers
from nubes.apps.gateway.exceptions import BadGateway, GatewayTimeout, ServiceDown
from nubes.apps.gateway.targets import Targets
from nubes.apps.registry.service import GatewayTarget
from nubes.config import Settings
from nubes.core.errors import BadRequest, PayloadTooLarge
from nubes.identity.sessions.tokens import KeyRing

log = structlog.get_logger("nubes.apps.gateway")

CONNECT_TIMEOUT_S = 5.0
SMALL_ANSWER_BYTES = 64 * 1024
"""An answer of a declared length up to this is read whole, then sent; longer ones and those of unknown length stream."""
READ_BUFFER_BYTES = 256 * 1024
PREFIX = "/apps"
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-downloads"
"""The CSP given to an isolated service's HTML: an opaque origin, so its scripts cannot use Nubes' cookies or API."""
# Request headers aiohttp would add by itself: only the client's own are sent.
NOT_ADDED = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})


def prefix_of(slug: str) -> str:
    """Where a service lives in the browser's eyes: `/apps/<slug>`."""
    return f"{PREFIX}/{slug}"


@dataclass(frozen=True, slots=True)
class Visit:
    """One caller let through to one service: where it is, and the signed assertion that says who they are."""

    target: GatewayTarget
    assertion: str
    isolated: bool = False
    """The service asked to be isolated (its manifest's `isolated`): its HTML is sandboxed to an opaque origin."""


class _TooLarge(Exception):
    """The request body went past the service's limit while it was streamed."""


class _Body:
    """The request body as it arrives, counted against the service's limit; past it the upload stops."""

    def __init__(self, request: Request, limit: int) -> None:
        self._request = request
        self.limit = limit
        self.received = 0
        self.too_large = False
        self.client_left = False
        self.on_end: Callable[[], None] = lambda: None
        """Called once the whole body went to the service (the wait for its answer starts then)."""

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's chunks (raising past the limit, so the service never gets a complete body)."""
        try:
            async for chunk in self._request.stream():
                self.received += len(chunk)
                if self.received > self.limit:
                    self.too_large = True
                    raise _TooLarge
                if chunk:
                    yield chunk
        except ClientDisconnect:
            self.client_left = True
            raise
        self.on_end()


def upstream_url(target: GatewayTarget, connection: HTTPConnection) -> URL:
    """The service's URL for a request or socket: its base URL, the path after `/apps/<slug>` as the client encoded
    it, and the query. Dot segments are refused: they would climb out of the service's base path."""
    path: str = connection.path_params.get("path", "")
    if any(segment in {".", ".."} for segment in path.split("/")):
        raise BadRequest("A path with `.` or `..` segments is refused; send the path itself.")
    prefix = prefix_of(target.slug).encode() + b"/"
    raw_path: bytes = connection.scope.get("raw_path") or b""
    rest = raw_path[len(prefix) :].decode("latin-1") if raw_path.startswith(prefix) else quote(path)
    url = f"{target.base_url.rstrip('/')}/{rest}"
    query: bytes = connection.scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    return URL(url, encoded=True)


def forwarded_of(request: HTTPConnection, slug: str) -> gateway_headers.Forwarded:
    """What the service is told about the original request."""
    return gateway_headers.Forwarded(
        client=request.client.host if request.client else "",
        proto={"ws": "http", "wss": "https"}.get(request.url.scheme, request.url.scheme),
        host=request.headers.get("host", ""),
        prefix=prefix_of(slug),
    )


class Gateway:
    """This process's gateway: connections to the services, their circuits, the targets and assertions it keeps, and
    the proxying of one request or socket."""

    def __init__(self, keyring: KeyRing, settings: Settings) -> None:
        self.breakers = Breakers()
        self.targets: Targets[GatewayTarget] = Targets()
        self.assertions = Assertions(keyring, settings)
        self._client: aiohttp.ClientSession | None = None

    @property
    def client(self) -> aiohttp.ClientSession:
        """The process's HTTP client (opened on first use: it belongs to the running event loop)."""
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(
                # Bytes pass through as the service sent them (compressed or not), cookies are the browser's business.
                auto_decompress=False,
                read_bufsize=READ_BUFFER_BYTES,
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=60),
                timeout=aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_S),
            )
        return self._client

    async def close(self) -> None:
        """Close every connection to the services."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def forward(self, request: Request, visit: Visit) -> Response:
        """Send the request to the service and stream its answer back (or raise a 413, 502, 503 or 504 problem)."""
        target = visit.target
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > target.max_body_bytes):
            raise PayloadTooLarge(f"{target.name} accepts request bodies of at most {target.max_body_bytes} bytes.")
        has_body = (declared is not None and declared != "0") or "transfer-encoding" in request.headers
        body = _Body(request, target.max_body_bytes)
        headers = gateway_headers.request_headers(
            _text_pairs(request.headers.raw), forwarded=forwarded_of(request, target.slug), assertion=visit.assertion
        )
        url = upstream_url(target, request)
        probe = self.breakers.admit(target.service_id, target.name)
        # aiohttp's read timeout runs from the request's headers: an upload longer than it would time out. With a
        # body, the service's timeout starts once the body is sent, and reads of its answer are not timed.
        timeout = aiohttp.ClientTimeout(
            total=None, connect=CONNECT_TIMEOUT_S, sock_read=None if has_body else target.timeout_seconds
        )
        try:
            async with asyncio.timeout(None) as answer_deadline:
                loop = asyncio.get_running_loop()
                body.on_end = lambda: answer_deadline.reschedule(loop.time() + target.timeout_seconds)
                upstream = await self.client.request(
                    request.method,
                    url,
                    headers=headers,
                    data=body.chunks() if has_body else None,
                    allow_redirects=False,
                    skip_auto_headers=NOT_ADDED,
                    timeout=timeout,
                )
        except BaseException as exc:
            raise self._refusal(exc, target, body, probe=probe) from None
        self.breakers.succeeded(target.service_id)
        answer_headers = _raw(self._answer_headers(upstream, visit))
        response: Response
        if upstream.content_length is not None and upstream.content_length <= SMALL_ANSWER_BYTES:
            # Read at once: a streamed answer costs a task group and more messages, most of a small answer's time.
            try:
                content = await upstream.read()
            except BaseException as exc:
                upstream.close()
                raise _failed_answer(exc, target, body) from None
            response = Response(content, status_code=upstream.status)
        else:
            response = StreamingResponse(_relay(upstream, target.slug), status_code=upstream.status)
        response.raw_headers = answer_headers
        return response

    def _refusal(self, exc: BaseException, target: GatewayTarget, body: _Body, *, probe: bool) -> BaseException:
        """What to answer when the request could not be forwarded, and what it means for the service's circuit."""
        if body.too_large:
            return PayloadTooLarge(f"{target.name} accepts request bodies of at most {body.limit} bytes.")
        if isinstance(exc, CONNECT_ERRORS):
            self.breakers.failed(target.service_id)
            log.warning("gateway.unreachable", service=target.slug, error=str(exc)[:200])
            if self.breakers.is_open(target.service_id):
                return ServiceDown.marked_down(target.name, None, retry_after=int(self.breakers.cool_down))
            return BadGateway(f"{target.name} could not be reached ({type(exc).__name__}); try again in a moment.")
        if probe:
            self.breakers.released(target.service_id)
        return _failed_answer(exc, target, body)

    def _answer_headers(self, upstream: aiohttp.ClientResponse, visit: Visit) -> list[tuple[str, str]]:
        target = visit.target
        answer = gateway_headers.response_headers(
            _text_pairs(upstream.raw_headers), base_url=target.base_url, prefix=prefix_of(target.slug)
        )
        if visit.isolated and upstream.content_type == "text/html":
            answer.append(("Content-Security-Policy", SANDBOX))
        return answer

    async def websocket(
        self, websocket: WebSocket, visit: Visit, *, access_ends: Callable[[], Awaitable[tuple[int, str]]] | None = None
    ) -> None:
        """Open the same socket to the service (with the assertion), accept the browser's, pump both ways, close both;
        also when `access_ends` returns (the close code and reason for the browser)."""
        target = visit.target
        url = upstream_url(target, websocket)
        url = url.with_scheme("wss" if url.scheme == "https" else "ws")
        headers = gateway_headers.request_headers(
            _text_pairs(websocket.headers.raw), forwarded=forwarded_of(websocket, target.slug), assertion=visit.assertion
        )
        for name in ("Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol"):
            headers.popall(name, None)
        offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        probe = self.breakers.admit(target.service_id, target.name)
        try:
            upstream = await self.client.ws_connect(
                url, headers=headers, protocols=offered, autoping=True, max_msg_size=MAX_MESSAGE_BYTES
            )
        except CONNECT_ERRORS:
            self.breakers.failed(target.service_id)
            await websocket.close(code=1014, reason=f"{target.slug} could not be reached")
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            if probe:
                self.breakers.released(target.service_id)
            await websocket.close(code=1014, reason=f"{target.slug} refused the socket ({type(exc).__name__})"[:120])
            return
        self.breakers.succeeded(target.service_id)
        async with upstream:
            await websocket.accept(subprotocol=upstream.protocol)
            await _pump(websocket, upstream, access_ends)


MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""The largest WebSocket message passed either way."""


async def _pump(
    websocket: WebSocket,
    upstream: aiohttp.ClientWebSocketResponse,
    access_ends: Callable[[], Awaitable[tuple[int, str]]] | None,
) -> None:
    """Pass messages both ways until one side closes, then close the other with the same code; or until the caller's
    access ends, then close both (the browser's with the reason)."""

    async def to_service() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(code=message.get("code", 1000))
                return
            if message.get("bytes") is not None:
                await upstream.send_bytes(message["bytes"])
            elif message.get("text") is not None:
                await upstream.send_str(message["text"])

    async def to_browser() -> None:
        async for message in upstream:
            if message.type == aiohttp.WSMsgType.TEXT:
                await websocket.send_text(message.data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                await websocket.send_bytes(message.data)
            else:
                break
        code = upstream.close_code or 1000
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=code if 1000 <= code < 5000 and code not in {1005, 1006} else 1011)

    async def until_access_ends() -> None:
        if access_ends is None:
            await asyncio.Event().wait()
            return
        code, reason = await access_ends()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the browser first: it learns why
            await websocket.close(code=code, reason=reason)
        await upstream.close(code=1001)  # going away: the caller left

    tasks = [asyncio.create_task(to_service()), asyncio.create_task(to_browser()), asyncio.create_task(until_access_ends())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if not upstream.closed:
            await upstream.close()


CONNECT_ERRORS = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""The service could not be reached at all: these count against its circuit."""


def _failed_answer(exc: BaseException, target: GatewayTarget, body: _Body) -> BaseException:
    """The problem for a service that was reached but did not answer properly (the client leaving is passed on)."""
    if body.client_left or isinstance(exc, asyncio.CancelledError | ClientDisconnect):
        return exc
    if isinstance(exc, aiohttp.SocketTimeoutError | TimeoutError):
        return GatewayTimeout(f"{target.name} did not answer within {target.timeout_seconds:g} s; try again later.")
    if isinstance(exc, aiohttp.ClientError):
        log.warning("gateway.bad_answer", service=target.slug, error=str(exc)[:200])
        return BadGateway(f"{target.name} broke off or sent an answer that cannot be passed on ({type(exc).__name__}).")
    return exc


async def _relay(upstream: aiohttp.ClientResponse, slug: str) -> AsyncIterator[bytes]:
    """The service's answer as it arrives; a break in the middle cuts the browser's answer off too (never a short body
    that looks whole). A connection read to the end goes back to the pool; one left half-read is closed."""
    complete = False
    try:
        async for chunk in upstream.content.iter_any():
            yield chunk
        complete = True
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("gateway.answer_cut", service=slug, error=type(exc).__name__)
        raise
    finally:
        if complete:
            upstream.release()
        else:
            upstream.close()


def _text_pairs(raw: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


def _raw(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
