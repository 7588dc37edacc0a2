"""The service behind the gateway benchmark: a manifest, a health check, a small answer and a streamed download.

Run as `python bench/gateway_service.py HOST PORT`; bench/bench_gateway.py starts it (uvicorn, one process, no access
log) and measures it both directly and through Nubes' `/apps/bench/`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

SLUG = "bench"
CHUNK = 256 * 1024


async def health(request: Request) -> JSONResponse:
    """Up."""
    return JSONResponse({"status": "ok"})


async def manifest(request: Request) -> JSONResponse:
    """The manifest Nubes reads when the service is registered."""
    return JSONResponse({"manifest_version": 1, "id": SLUG, "name": "Bench", "timeout_seconds": 60})


async def hello(request: Request) -> JSONResponse:
    """The small answer measured with wrk."""
    return JSONResponse({"hello": "world"})


async def download(request: Request) -> StreamingResponse:
    """`size` bytes of zeros, streamed in 256 KiB chunks with a Content-Length."""
    size = int(request.query_params.get("size", "0"))
    block = bytes(CHUNK)

    async def chunks() -> AsyncIterator[bytes]:
        left = size
        while left > 0:
            piece = block if left >= CHUNK else block[:left]
            left -= len(piece)
            yield piece

    return StreamingResponse(chunks(), media_type="application/octet-stream", headers={"Content-Length": str(size)})


def create_app() -> Starlette:
    """The service's routes."""
    return Starlette(
        routes=[
            Route("/health", health),
            Route("/plugin/manifest", manifest),
            Route("/hello", hello),
            Route("/download", download),
        ]
    )


def main() -> None:
    """Serve on HOST PORT."""
    uvicorn.run(create_app(), host=sys.argv[1], port=int(sys.argv[2]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
