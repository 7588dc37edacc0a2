"""FastAPI dependencies of the documents domain: who may read, write and manage the vocabularies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from nubes.core.principal import Principal
from nubes.identity.deps import require

Reader = Annotated[Principal, Depends(require("documents.read"))]
Writer = Annotated[Principal, Depends(require("documents.write"))]
Manager = Annotated[Principal, Depends(require("documents.manage"))]
