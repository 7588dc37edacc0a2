"""What the registry runs beside the requests: the services of NUBES_APPS_SERVICES registered at start, then their
health checked every NUBES_APPS_HEALTH_INTERVAL seconds by one process of the install."""

from __future__ import annotations

import structlog
from fastapi import FastAPI

from nubes.apps.registry import service
from nubes.apps.registry.health import Fetcher
from nubes.config import Settings
from nubes.core.domain import Background, Loop, every
from nubes.core.leases import once_per_install

log = structlog.get_logger("nubes.apps")


def install(app: FastAPI) -> Background:
    """The fetcher on `app.state.apps_fetcher` (routes use it to register and refresh), and the health chore."""
    settings: Settings = app.state.settings
    fetcher = app.state.apps_fetcher = Fetcher()
    urls = [url.strip() for url in settings.apps_services.split(",") if url.strip()]
    interval = settings.apps_health_interval

    async def poll_round() -> None:
        await service.poll(sessions=app.state.db.writer_sessions, fetcher=fetcher, events=app.state.events)

    polled = once_per_install(app.state.db.writer_sessions, "apps-health", poll_round, lease=2 * interval + 60)
    periodic = every("nubes-apps-health", interval, polled)

    async def run() -> None:
        # At start, only an install that configures services registers them and checks them at once; any other waits
        # one interval, so that a starting server (and every short-lived test app) takes no write lock for it.
        if urls:
            try:
                await service.register_configured(sessions=app.state.db.writer_sessions, fetcher=fetcher, urls=urls)
                await polled()
            except Exception:  # the periodic rounds still run
                log.exception("apps.start_failed")
        await periodic.run()

    return Background(workers=[fetcher], chores=[Loop(name="nubes-apps-health", run=run)])
