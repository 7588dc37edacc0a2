"""Dependencies shared by the compute routes: who may call them, and the app's agent hub."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nubes.compute.agents.gateway import AgentHub
from nubes.core.principal import Principal
from nubes.identity.deps import SuperAdmin, require

# Platform-wide objects (clusters, nodes, eggs) are the super-admins': one alias, declared in identity.
PlatformAdmin = SuperAdmin
ContainersRead = Annotated[Principal, Depends(require("containers.read"))]
ContainersManage = Annotated[Principal, Depends(require("containers.manage"))]


async def hub_of(request: Request) -> AgentHub:
    """The app's agent hub."""
    hub: AgentHub = request.app.state.agent_hub
    return hub


HubDep = Annotated[AgentHub, Depends(hub_of)]
