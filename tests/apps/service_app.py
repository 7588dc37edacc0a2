"""A tiny service to register behind Nubes in tests: `/health`, `/plugin/manifest`, `/echo`, and control routes.

Run as `python -m tests.apps.service_app <port>` (the `test_service` fixture of tests/apps/conftest.py does). What a
test changes goes through `/_control/...`: the health answer (up or down), the manifest served (any JSON, or a
status code instead), back to the defaults with `/_control/reset`.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.apps.gateway import upstream as gateway_routes

SLUG = "echo"


def default_manifest(slug: str = SLUG) -> dict[str, Any]:
    """The manifest the service serves until a test changes it."""
    return {
        "manifest_version": 1,
        "id": slug,
        "name": "Echo",
        "description": "Answers with what it was sent (a test service).",
        "version": "1.0.0",
        "icon": "/icon.svg",
        "ui": {"path": "/", "open_in": "nubes"},
        "routes": [],
        "settings": [
            {"key": "greeting", "type": "text", "label": "Greeting", "default": "Hello", "max": 50},
            {"key": "retries", "type": "number", "label": "Retries", "min": 0, "max": 10, "default": 3},
            {"key": "verbose", "type": "boolean", "label": "Verbose logs", "default": False},
            {
                "key": "mode",
                "type": "select",
                "label": "Mode",
                "options": [{"value": "fast", "label": "Fast"}, {"value": "safe", "label": "Safe"}],
                "default": "safe",
            },
            {"key": "api_key", "type": "secret", "label": "API key", "required": True},
        ],
        "webhooks": [{"event": "file.created", "path": "/hooks/file"}],
    }


ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="10" fill="#4f7cff"/>'
    '<path d="M7 12h10M12 7v10" stroke="#fff" stroke-width="2"/></svg>'
)


class State:
    """What a test set: whether /health answers 200, and what /plugin/manifest answers."""

    def __init__(self) -> None:
        self.reset()

    def reset(self, slug: str = SLUG) -> None:
        self.healthy = True
        self.manifest: Any = default_manifest(slug)
        self.manifest_status = 200


state = State()


async def health(request: Request) -> Response:
    if state.healthy:
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "down"}, status_code=503)


async def manifest(request: Request) -> Response:
    if state.manifest_status != 200:
        return Response("no manifest here", status_code=state.manifest_status)
    return JSONResponse(state.manifest)


async def icon(request: Request) -> Response:
    return Response(ICON, media_type="image/svg+xml")


async def home(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>Echo</title><h1>Echo</h1><p>The test service answers.</p>")


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": dict(request.headers.items()),
            "body_bytes": len(body),
        }
    )


async def control_health(request: Request) -> Response:
    state.healthy = (await request.json())["up"]
    return JSONResponse({"up": state.healthy})


async def control_manifest(request: Request) -> Response:
    """Body `{"manifest": {...}}` serves that JSON; `{"status": 404}` answers that status instead."""
    wanted = await request.json()
    if "status" in wanted:
        state.manifest_status = int(wanted["status"])
    if "manifest" in wanted:
        state.manifest, state.manifest_status = wanted["manifest"], 200
    return JSONResponse({"ok": True})


async def control_reset(request: Request) -> Response:
    state.reset((await request.json()).get("slug", SLUG))
    return JSONResponse({"ok": True})


routes = [
    Route("/", home),
    Route("/health", health),
    Route("/plugin/manifest", manifest),
    Route("/icon.svg", icon),
    Route("/echo", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    Route("/_control/health", control_health, methods=["POST"]),
    Route("/_control/manifest", control_manifest, methods=["POST"]),
    Route("/_control/reset", control_reset, methods=["POST"]),
    *gateway_routes.ROUTES,  # what the gateway tests need (tests/apps/gateway/upstream.py)
]

app = Starlette(routes=routes)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
