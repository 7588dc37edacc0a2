"""FastAPI dependencies of the documents domain: who may read, write and manage the vocabularies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from nubes.core.principal import Principal
from nubes.identity.deps import require

Reader = Annotated[Principal, Depends(require("documents.read"))]
Writer = Annotated[Principal, Depends(require("documents.write"))]
Manager = Annotated[Principal, Depends(require("documents.manage"))]
# The AI provider is the `ai-service-admin` group's (seed 002), not the document managers'.
AiManager = Annotated[Principal, Depends(require("ai.manage"))]
