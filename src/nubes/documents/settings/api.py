"""Routes of the documents settings: everyone reads the limits they upload under; `documents.manage` changes them."""

from __future__ import annotations

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.deps import Manager, Reader
from nubes.documents.settings import service
from nubes.documents.settings.schemas import DocumentSettingsRead, DocumentSettingsUpdate
from nubes.identity.deps import SettingsDep

router = api_router(prefix="/documents", tags=["documents"])


@router.get("/settings", operation_id="documents-settings-get", response_model=DocumentSettingsRead, summary="Upload limits, OCR")
async def get_settings(session: SessionDep, principal: Reader, settings: SettingsDep) -> DocumentSettingsRead:
    return await service.get(session, principal.tenant_id, server_languages=settings.ocr_languages)


@router.put("/settings", operation_id="documents-settings-update", response_model=DocumentSettingsRead, summary="Change them")
async def update_settings(
    session: SessionDep, principal: Manager, settings: SettingsDep, change: DocumentSettingsUpdate
) -> DocumentSettingsRead:
    await service.update(session, principal.tenant_id, change)
    return await service.get(session, principal.tenant_id, server_languages=settings.ocr_languages)
