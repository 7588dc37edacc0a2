"""Routes of the ops domain: liveness, readiness, version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from nubes import API_VERSION, __version__
from nubes.core.db import Database
from nubes.core.leases import REPLICA
from nubes.core.routing import api_router
from nubes.ops import service
from nubes.ops.alerts import api as alerts_api
from nubes.ops.backups import api as backups_api
from nubes.ops.flags import api as flags_api
from nubes.ops.metrics import api as metrics_api
from nubes.ops.metrics import overview_api
from nubes.ops.schemas import Health, Readiness, VersionInfo

router = api_router(tags=["ops"])


async def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(_database)]


@router.get("/health", operation_id="health", response_model=Health, summary="Liveness: the process serves requests")
async def health() -> Health:
    """Answer 200 whenever the process is up; it does not touch the database."""
    return Health()


@router.get(
    "/ready",
    operation_id="ready",
    response_model=Readiness,
    summary="Readiness: every dependency answers",
    responses={503: {"model": Readiness, "description": "A dependency is not answering"}},
)
async def ready(request: Request, database: DatabaseDep, response: Response) -> Readiness:
    """Answer 200 when the database (and Redis, when configured) answers, 503 with the failing checks otherwise."""
    result = await service.readiness(database=database, bus=request.app.state.events)
    response.headers["Cache-Control"] = "no-store"
    if result.status != "ready":
        response.status_code = 503
    return result


@router.get("/version", operation_id="version", response_model=VersionInfo, summary="What is running")
async def version(request: Request, database: DatabaseDep) -> VersionInfo:
    """The product version, API version, database engine, this replica's name and when this process started."""
    started_at: datetime = request.app.state.started_at
    return VersionInfo(
        version=__version__,
        api_version=API_VERSION,
        database="postgresql" if database.engine_name == "postgresql" else "sqlite",
        replica=REPLICA,
        started_at=started_at,
    )


routers: list[APIRouter] = [
    router,
    metrics_api.router,
    overview_api.router,
    alerts_api.router,
    backups_api.router,
    flags_api.router,
]
"""What the app mounts (see nubes.core.domain)."""
