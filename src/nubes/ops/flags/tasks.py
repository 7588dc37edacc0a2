"""What ops/flags runs beside the requests: the link between the flags' cache and the event bus."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from nubes.core.domain import Background, Loop
from nubes.core.events import Bus
from nubes.ops.flags import service

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> Background:
    """Forget cached flag values on every change announced by any process; announce this process's changes while the
    server runs (a loop that stops announcing at shutdown)."""
    bus: Bus = app.state.events
    service.listen(bus)

    async def announce() -> None:
        service.announce_on(bus)
        try:
            await asyncio.Event().wait()
        finally:
            service.stop_announcing(bus)

    return Background(loops=[Loop(name="nubes-ops-flags", run=announce)])
