"""Routes of the classifier: its state, and "Retrain now". Both need `documents.manage`: the state counts the
organization's confirmed documents, private ones included, which a reader may not see."""

from __future__ import annotations

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.classifier import service
from nubes.documents.classifier.schemas import ClassifierStatus
from nubes.documents.deps import Manager

router = api_router(prefix="/documents", tags=["documents"])


@router.get(
    "/classifier",
    operation_id="documents-classifier-status",
    response_model=ClassifierStatus,
    summary="The organization's classifier: what it learnt, when, and its training job",
)
async def classifier_status(session: SessionDep, principal: Manager) -> ClassifierStatus:
    return await service.status(session, principal.tenant_id)


@router.post(
    "/classifier/retrain",
    operation_id="documents-classifier-retrain",
    status_code=202,
    response_model=ClassifierStatus,
    summary="Train the classifier again now, on every confirmed document",
)
async def retrain(session: SessionDep, principal: Manager) -> ClassifierStatus:
    await service.retrain(session, principal.tenant_id)
    return await service.status(session, principal.tenant_id)
