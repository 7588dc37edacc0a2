"""The baseline server: a bare Starlette app, served with the same `uvicorn.run` options as `nubes serve`.

Run as `python bench/baseline_app.py HOST PORT`; the benchmarks start it, nobody else needs to.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(request: Request) -> JSONResponse:
    """The same body Nubes' `GET /api/health` returns, with nothing around it."""
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    """One route at the same path as Nubes', so wrk requests the identical URL on both servers."""
    return Starlette(routes=[Route("/api/health", health, methods=["GET"])])


def main() -> None:
    """Serve the baseline on HOST PORT exactly as src/nubes/cli.py `serve` calls uvicorn (keep the two in step)."""
    host, port = sys.argv[1], int(sys.argv[2])
    # An import string with factory=True, like Nubes, so uvicorn loads the app the same way; it resolves
    # because the script's own directory is first on sys.path.
    uvicorn.run(
        "baseline_app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=1,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
