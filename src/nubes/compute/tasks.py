"""What the compute domain runs beside the requests: the agent hub and, with Docker here, the embedded node."""

from __future__ import annotations

from fastapi import FastAPI

from nubes.compute.agents.gateway import AgentHub
from nubes.compute.agents.local import run_local_agent
from nubes.compute.agents.relay import Relay
from nubes.core.domain import Background, Loop


def install(app: FastAPI) -> Background:
    """The agent hub on `app.state.agent_hub` (agents connect to it), relayed to the other replicas when the event
    bus is shared (Redis); the local node's agent when enabled."""
    hub = app.state.agent_hub = AgentHub()
    if app.state.events.shared:
        hub.relay = Relay(app.state.events, hub)
    settings = app.state.settings
    if settings.local_agent != "auto":
        return Background()

    async def local_agent() -> None:
        await run_local_agent(settings=settings, sessions=app.state.db.writer_sessions)

    return Background(loops=[Loop(name="nubes-local-agent", run=local_agent)])
