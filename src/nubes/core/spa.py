"""Serve the built web UI: hashed assets cached for a year, client routes fall back to index.html."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from nubes.core.errors import problem_response

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Paths the UI never owns: an unknown one is a problem+json 404, not the SPA shell.
SERVER_PREFIXES = ("/api", "/dav", "/oauth", "/.well-known")
# ...except these pages of the UI under them: the OAuth consent screen (its address is part of the protocol's flow).
CLIENT_PATHS = frozenset({"/oauth/consent"})

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Nubes</title></head>
<body><main><h1>The Nubes web UI is not built yet</h1>
<p>The API is up at <a href="/api/docs">/api/docs</a>. Build the UI with <code>make run</code>
(or <code>make web</code>) and reload this page.</p></main></body></html>"""


class SinglePageApp:
    """The ASGI app for paths no route matched (installed as the router's default)."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist.resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        response = self.respond(request)
        await response(scope, receive, send)

    def respond(self, request: Request) -> Response:
        path = request.url.path
        if path not in CLIENT_PATHS and any(path == prefix or path.startswith(prefix + "/") for prefix in SERVER_PREFIXES):
            return problem_response(request, status=404, code="not-found", detail=f"No route matches {request.method} {path}.")
        if request.method not in {"GET", "HEAD"}:
            return problem_response(
                request, status=405, code="method-not-allowed", detail=f"{request.method} is not allowed on {request.url.path}."
            )
        index = self.dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        relative = request.url.path.lstrip("/")
        candidate = (self.dist / relative).resolve()
        if relative and candidate.is_relative_to(self.dist) and candidate.is_file():
            hashed = candidate.is_relative_to(self.dist / "assets")
            return FileResponse(candidate, headers={"Cache-Control": IMMUTABLE if hashed else REVALIDATE})
        if "." in relative.rsplit("/", 1)[-1]:
            # A missing file (an old asset, a typo), not a client route.
            return problem_response(request, status=404, code="not-found", detail=f"No file at {request.url.path}.")
        return FileResponse(index, headers={"Cache-Control": REVALIDATE})
