"""Routes of the AI assistant: its settings and "Test connection", for holders of `ai.manage` (the
`ai-service-admin` group) only. The API key is write-only: no route returns it."""

from __future__ import annotations

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.assistant import service
from nubes.documents.assistant.schemas import AssistantSettingsRead, AssistantSettingsUpdate, ConnectionTest
from nubes.documents.deps import AiManager
from nubes.identity.deps import OriginDep, SettingsDep

router = api_router(prefix="/documents", tags=["documents"])


@router.get(
    "/assistant",
    operation_id="documents-assistant-get",
    response_model=AssistantSettingsRead,
    summary="The organization's AI provider (never its key)",
)
async def get_assistant(session: SessionDep, principal: AiManager, settings: SettingsDep) -> AssistantSettingsRead:
    return await service.get(session, principal.tenant_id, settings=settings)


@router.put(
    "/assistant",
    operation_id="documents-assistant-update",
    response_model=AssistantSettingsRead,
    summary="Change the AI provider: URL, model, key (write-only), prompt, limits",
)
async def update_assistant(
    session: SessionDep, principal: AiManager, settings: SettingsDep, origin: OriginDep, change: AssistantSettingsUpdate
) -> AssistantSettingsRead:
    await service.update(session, principal, change, settings=settings, origin=origin)
    return await service.get(session, principal.tenant_id, settings=settings)


@router.post(
    "/assistant/test",
    operation_id="documents-assistant-test",
    response_model=ConnectionTest,
    summary="Test connection: whether the provider answers with the stored settings, or why not",
)
async def test_assistant(session: SessionDep, principal: AiManager, settings: SettingsDep) -> ConnectionTest:
    return await service.test_connection(session, principal.tenant_id, settings=settings)
