"""The app factory: builds the FastAPI app from settings and the domain manifests (nubes.domains)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from nubes import __version__
from nubes.config import Settings, get_settings
from nubes.core.db import Database
from nubes.core.domain import Background, Loop
from nubes.core.errors import install_error_handlers
from nubes.core.events import Bus, open_bus
from nubes.core.http import CONTENT_SECURITY_POLICY, BodyLimitMiddleware, EdgeMiddleware, SlowBodyMiddleware
from nubes.core.jobs import share_wakes, stop_sharing_wakes
from nubes.core.leases import HOLDER, REPLICA
from nubes.core.mail import MailSender
from nubes.core.ratelimit import RateLimiter
from nubes.core.routing import index_routes
from nubes.core.spa import SinglePageApp
from nubes.core.storage import open_storage
from nubes.domains import DOMAINS
from nubes.identity.deps import document_access
from nubes.identity.sessions.tokens import KeyRing

log = structlog.get_logger("nubes.main")

DOCS_ASSETS = "/vendor/swagger-ui"


def _install_domains(app: FastAPI) -> Background:
    """Each domain's shared objects on `app.state`, its routers under /api (and its root routers at /); what they all run
    in the background."""
    background = Background(workers=[app.state.mail])  # the kernel's own worker: the mail outbox
    for domain in DOMAINS:
        installed = domain.install(app)
        background.workers += installed.workers
        background.loops += installed.loops
        background.chores += installed.chores
        for router in domain.routers():
            app.include_router(router, prefix="/api")
        for router in domain.root_routers():
            app.include_router(router)
    return background


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the whole Nubes server for `settings` (the environment's when omitted).

    A `database` passed in (the tests' transaction-bound one) is used as is and left open at shutdown.
    """
    settings = settings or get_settings()
    owns_database = database is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("server.starting", version=__version__, database=app.state.db.engine_name, replica=REPLICA, holder=HOLDER)
        # Everything built so far (modules, models, the app) lives for the whole process: move it out of
        # the collector's sight, or each full collection scans it all and stalls requests (p99 ~5x worse).
        gc.collect()
        gc.freeze()
        # Tests that bring their own transaction-bound database run the background work themselves.
        background: Background = app.state.background
        events: Bus = app.state.events
        runs_jobs = owns_database and app.state.settings.jobs
        loops: list[Loop] = []
        if owns_database:
            share_wakes(events)
            loops = [Loop(name="nubes-events", run=events.run), *background.loops]
        if runs_jobs:
            for worker in background.workers:
                worker.start()
            loops += background.chores
        tasks = [asyncio.create_task(loop.run(), name=loop.name) for loop in loops]
        log.info("server.background", jobs=runs_jobs, events="redis" if events.shared else "process")
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for worker in reversed(background.workers):
            await worker.stop()
        if owns_database:
            stop_sharing_wakes()
            await events.close()
            await app.state.db.dispose()
        log.info("server.stopped")

    app = FastAPI(
        title="Nubes",
        version=__version__,
        summary="One self-hosted, multi-tenant cloud for files, documents, apps and containers.",
        # The API reference opens with what an operator checks first: health, readiness, version.
        openapi_tags=[{"name": "ops", "description": "Health, readiness and version of the server"}],
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Nubes emits no OpenTelemetry; FastAPI's native hooks would still look for providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.db = database or Database.from_settings(settings)
    app.state.started_at = datetime.now(UTC)

    app.state.keyring = KeyRing(settings)
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    app.state.mail = MailSender(settings, app.state.db.writer_sessions)
    app.state.storage = open_storage(settings)
    app.state.events = open_bus(settings.redis_url)

    install_error_handlers(app)
    app.state.background = _install_domains(app)
    document_access(app)
    _add_docs(app)
    _add_fallbacks(app, settings)
    index_routes(app.router)
    # Added last is outermost: the edge wraps everything, so even a crash gets an id and a problem.
    app.add_middleware(BodyLimitMiddleware, default_limit=settings.max_body_bytes)
    app.add_middleware(
        SlowBodyMiddleware,
        idle_timeout=settings.body_idle_timeout,
        min_rate=settings.body_min_rate,
        rate_window=settings.body_rate_window,
        max_per_ip=settings.body_max_per_ip,
    )
    app.add_middleware(EdgeMiddleware)
    if settings.trusted_proxies:
        # Outside the edge: the access log, rate limits, body caps per address and the audit see the real client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies.split(","))
    return app


def _add_docs(app: FastAPI) -> None:
    """Swagger UI from our own origin (no CDN is reachable, and the CSP allows none)."""

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": DOCS_CSP})

    @app.get("/api/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(DOCS_INIT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


# Swagger UI ships in the web build (web/dist/vendor/swagger-ui); its script is external so the CSP
# needs no 'unsafe-inline' for scripts; Swagger UI sets inline styles, so the docs page allows those.
DOCS_CSP = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nubes API</title><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">
</head><body><div id="swagger-ui"><p>Loading the API reference... If this stays, build the web UI with <code>make run</code>;
the raw schema is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script><script src="/api/docs/init.js"></script></body></html>
"""
DOCS_INIT = """window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


def _add_fallbacks(app: FastAPI, settings: Settings) -> None:
    """What no route matches: the web UI for its client routes, a problem+json 404 under server prefixes."""
    app.router.default = SinglePageApp(settings.web_dist)
