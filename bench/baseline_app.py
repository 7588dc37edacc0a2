"""The baseline servers: a bare Starlette app, or a bare FastAPI app, served with the same options as `nubes serve`.

Run as `python bench/baseline_app.py HOST PORT [starlette|fastapi] [granian|uvicorn]`; the benchmarks start it,
nobody else needs to.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
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


class Health(BaseModel):
    """The response model Nubes declares for the route, so FastAPI validates and serializes the same way."""

    status: str = "ok"


def create_fastapi_app() -> FastAPI:
    """The same route as a plain FastAPI app: what the framework costs before any Nubes middleware."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/health", response_model=Health)
    async def fastapi_health() -> Health:
        return Health()

    return app


def main() -> None:
    """Serve the baseline on HOST PORT exactly as src/nubes/cli.py `serve` runs its server (keep the two in step)."""
    host, port = sys.argv[1], int(sys.argv[2])
    factory = "create_fastapi_app" if sys.argv[3:4] == ["fastapi"] else "create_app"
    # An import string with factory=True, like Nubes, so the server loads the app the same way; it resolves
    # because the script's own directory is first on sys.path.
    target = f"baseline_app:{factory}"
    if sys.argv[4:5] == ["uvicorn"]:
        uvicorn.run(
            target,
            factory=True,
            host=host,
            port=port,
            workers=1,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
        )
        return
    from granian.constants import Interfaces  # noqa: PLC0415 - only when serving with Granian
    from granian.server import Server  # noqa: PLC0415

    Server(target, factory=True, address=host, port=port, interface=Interfaces.ASGI, workers=1, log_access=False).serve()


if __name__ == "__main__":
    main()
