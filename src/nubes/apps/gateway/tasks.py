"""The gateway's place in the process: `app.state.gateway`, told of service status changes, closed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import structlog
from fastapi import FastAPI

from nubes.apps.gateway.proxy import Gateway
from nubes.apps.registry.service import STATUS_CHANNEL
from nubes.core.domain import Loop
from nubes.core.events import Bus

log = structlog.get_logger("nubes.apps.gateway")


def install(app: FastAPI) -> list[Loop]:
    """Put the gateway on `app.state.gateway`; the loop that holds its connections and closes them at shutdown."""
    gateway = Gateway(app.state.keyring, app.state.settings)
    app.state.gateway = gateway
    events: Bus = app.state.events

    def status_changed(message: str) -> None:
        # The registry announces a service whose status or availability changed: its targets are read again.
        with contextlib.suppress(orjson.JSONDecodeError, TypeError, AttributeError):
            slug = orjson.loads(message).get("slug")
            gateway.targets.forget(slug if isinstance(slug, str) else None)
            return
        gateway.targets.forget()

    events.subscribe(STATUS_CHANNEL, status_changed)

    async def hold() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await gateway.close()

    return [Loop(name="nubes-apps-gateway", run=hold)]
