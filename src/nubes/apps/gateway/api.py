"""The gateway's routes at the root: `/apps/<slug>/...` proxied to the service, for every method and for WebSockets.

The web UI owns exactly `/apps` (the Apps page); `/apps/<slug>` redirects to `/apps/<slug>/`. These routes stay out
of the OpenAPI schema: what lies behind them is each service's own API. Their access rule is `deps.visit`.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.websockets import WebSocket

from nubes.apps.gateway import deps
from nubes.apps.gateway.deps import GatewayDep
from nubes.apps.gateway.proxy import PREFIX
from nubes.apps.registry import manifest
from nubes.core.errors import Forbidden, NotFound, NubesError, Unauthorized
from nubes.core.websocket import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED

router = APIRouter()

METHODS: list[str] = list(manifest.METHODS)
BODY_CEILING = 1 << 40
"""The route's own body cap, above any service's: each service's `max_body_bytes` is enforced while streaming."""
CLOSE_NOT_FOUND = 4404
CLOSE_TRY_AGAIN_LATER = 1013


@router.api_route(f"{PREFIX}/{{slug}}", methods=METHODS, include_in_schema=False)
async def service_root(request: Request, slug: str) -> RedirectResponse:
    """A service's address without its slash: the same place with it (its relative links then resolve under it)."""
    query = request.url.query
    return RedirectResponse(f"{PREFIX}/{quote(slug)}/" + (f"?{query}" if query else ""), status_code=308)


@router.api_route(f"{PREFIX}/{{slug}}/{{path:path}}", methods=METHODS, include_in_schema=False, max_body_size=BODY_CEILING)
async def forward(request: Request, slug: str, gateway: GatewayDep) -> Response:
    """The request, passed to the service with the caller's signed assertion; its answer, streamed back."""
    try:
        visit = await deps.visit(request, slug, gateway)
    except Unauthorized:
        if not deps.wants_page(request):
            raise
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return await gateway.forward(request, visit)


@router.websocket(f"{PREFIX}/{{slug}}/{{path:path}}")
async def forward_socket(websocket: WebSocket, slug: str, gateway: GatewayDep) -> None:
    """The socket, opened to the service with the caller's signed assertion, messages passed both ways."""
    try:
        visit, principal = await deps.socket_visit(websocket, slug, gateway)
    except NubesError as exc:
        await websocket.close(code=_close_code(exc), reason=(exc.detail or exc.title)[:120])
        return

    async def access_ends() -> tuple[int, str]:
        while True:
            await asyncio.sleep(deps.RECHECK_SECONDS)
            try:
                await deps.socket_still_allowed(websocket, slug, gateway, principal)
            except NubesError as exc:
                return _close_code(exc), (exc.detail or exc.title)[:120]

    await gateway.websocket(websocket, visit, access_ends=access_ends)


def _close_code(exc: NubesError) -> int:
    if isinstance(exc, Unauthorized):
        return CLOSE_UNAUTHORIZED
    if isinstance(exc, Forbidden):
        return CLOSE_FORBIDDEN
    if isinstance(exc, NotFound):
        return CLOSE_NOT_FOUND
    return CLOSE_TRY_AGAIN_LATER
