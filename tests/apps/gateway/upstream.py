"""The gateway tests' routes of the test service (tests/apps/service_app.py), written as an app author would.

They verify `X-Nubes-Assertion` with pyjwt against Nubes' JWKS (told where by POST /gateway/configure), echo what
they received, count streamed uploads, stream downloads, send server-sent events one at a time (each released by the
test), echo WebSocket messages, and answer redirects and cookies the gateway must rewrite.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CHUNK = 64 * 1024


class _State:
    """What the service was told and what it saw (one process serves one test module)."""

    def __init__(self) -> None:
        self.jwks: jwt.PyJWKClient | None = None
        self.issuer = "nubes"
        self.audience = ""
        self.uploads: list[dict[str, Any]] = []
        self.events = asyncio.Event()


state = _State()


def verified(headers: Any) -> dict[str, Any]:
    """The claims of the request's assertion, verified (signature by the JWKS, audience, issuer, expiry); raises."""
    token = headers.get("x-nubes-assertion")
    if not token:
        raise jwt.InvalidTokenError("no assertion")
    if state.jwks is None:
        raise jwt.InvalidTokenError("the service was not told where Nubes' JWKS is")
    key = state.jwks.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA"],
        audience=state.audience,
        issuer=state.issuer,
        options={"require": ["exp", "iat", "nbf", "sub", "aud", "iss", "jti"]},
    )
    return claims


async def configure(request: Request) -> JSONResponse:
    body = await request.json()
    state.jwks = jwt.PyJWKClient(body["jwks_url"], cache_keys=True)
    state.issuer = body.get("issuer", "nubes")
    state.audience = body["audience"]
    return JSONResponse({"ok": True})


async def whoami(request: Request) -> JSONResponse:
    try:
        claims = await asyncio.to_thread(verified, request.headers)
    except jwt.PyJWTError as exc:
        return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=401)
    return JSONResponse(
        {
            "claims": claims,
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": [[name, value] for name, value in request.headers.items()],
            "body": (await request.body()).decode("utf-8", "replace"),
        }
    )


async def upload(request: Request) -> JSONResponse:
    digest = hashlib.sha256()
    received = 0
    record: dict[str, Any] = {"received": 0, "complete": False}
    state.uploads.append(record)
    async for chunk in request.stream():
        digest.update(chunk)
        received += len(chunk)
        record["received"] = received
    record["complete"] = True
    return JSONResponse({"bytes": received, "sha256": digest.hexdigest()})


async def uploads(request: Request) -> JSONResponse:
    return JSONResponse(state.uploads)


def pattern(size: int) -> bytes:
    """The download's bytes: a repeating pattern whose SHA-256 the test computes itself."""
    block = bytes(range(256)) * (CHUNK // 256)
    return (block * (size // CHUNK + 1))[:size]


async def download(request: Request) -> StreamingResponse:
    size = int(request.query_params.get("size", "0"))
    block = bytes(range(256)) * (CHUNK // 256)

    async def chunks() -> Any:
        left = size
        while left > 0:
            piece = block[: min(CHUNK, left)]
            left -= len(piece)
            yield piece

    return StreamingResponse(chunks(), media_type="application/octet-stream", headers={"Content-Length": str(size)})


async def events(request: Request) -> StreamingResponse:
    count = int(request.query_params.get("count", "3"))

    async def stream() -> Any:
        for number in range(1, count + 1):
            yield f"id: {number}\ndata: event {number}\n\n".encode()
            if number < count:
                state.events.clear()
                await state.events.wait()  # the test releases the next event once it read this one

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def events_next(request: Request) -> JSONResponse:
    state.events.set()
    return JSONResponse({"ok": True})


async def redirect(request: Request) -> RedirectResponse:
    kind = request.query_params.get("to", "absolute")
    base = f"{request.url.scheme}://{request.url.netloc}"
    location = {"absolute": f"{base}/whoami?x=1", "root": "/whoami", "relative": "whoami", "elsewhere": "https://example.org/"}
    return RedirectResponse(location[kind], status_code=302)


async def cookies(request: Request) -> Response:
    response = PlainTextResponse("cookies")
    response.headers.append("Set-Cookie", "app_session=abc; Path=/; HttpOnly; Domain=example.org")
    response.headers.append("Set-Cookie", "nubes_access=stolen; Path=/")
    response.headers.append("Set-Cookie", "scoped=1; Path=/apps/echo/inner")
    response.headers.append("Clear-Site-Data", '"cookies"')
    return response


async def page(request: Request) -> Response:
    return Response("<!doctype html><title>app</title><p>app page</p>", media_type="text/html")


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("seconds", "5")))
    return PlainTextResponse("late")


async def socket(websocket: WebSocket) -> None:
    try:
        claims = await asyncio.to_thread(verified, websocket.headers)
    except jwt.PyJWTError:
        await websocket.close(code=4401)
        return
    await websocket.accept()
    await websocket.send_json({"user": claims["preferred_username"]})
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                if message["text"] == "close":
                    await websocket.close(code=4000)
                    return
                await websocket.send_text("echo: " + message["text"])
            elif message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"][::-1])
    except WebSocketDisconnect:
        return


ROUTES: list[BaseRoute] = [
    Route("/gateway/configure", configure, methods=["POST"]),
    Route("/whoami", whoami, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    Route("/upload", upload, methods=["POST", "PUT"]),
    Route("/uploads", uploads),
    Route("/download", download),
    Route("/events", events),
    Route("/events/next", events_next, methods=["POST"]),
    Route("/redirect", redirect),
    Route("/cookies", cookies),
    Route("/page", page),
    Route("/slow", slow),
    WebSocketRoute("/ws", socket),
]
