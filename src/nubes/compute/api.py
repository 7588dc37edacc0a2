"""The compute domain's router: every sub-domain's routes, in one place for the app to mount."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.compute.agents.api import router as agents_router
from nubes.compute.clusters.api import router as clusters_router
from nubes.compute.containers.api import router as containers_router
from nubes.compute.containers.files.api import router as container_files_router
from nubes.compute.eggs.api import router as eggs_router
from nubes.compute.jobs.api import router as jobs_router
from nubes.compute.nodes.api import router as nodes_router
from nubes.core.routing import api_router

router = api_router()
# The order is the OpenAPI schema's (and the generated TypeScript client's) order of paths.
for sub_router in (
    clusters_router,
    nodes_router,
    eggs_router,
    containers_router,
    jobs_router,
    agents_router,
    container_files_router,
):
    router.include_router(sub_router)

routers: list[APIRouter] = [router]
"""What the app mounts (see nubes.core.domain)."""
