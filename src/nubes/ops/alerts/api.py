"""Routes of alerts: rules, notification targets (and their test), instances now, the history, silences.

Reading needs `ops.monitor`, changing needs `ops.alerts`; a tenant admin works on the tenant's rows, super-admins
also on the platform's.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query

from nubes.core.db import SessionDep
from nubes.core.pagination import Limit, Offset
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, SettingsDep, require
from nubes.ops.alerts import service
from nubes.ops.alerts.schemas import (
    EventPage,
    InstanceRead,
    MetricChoice,
    RuleCreate,
    RuleRead,
    RuleTemplate,
    RuleUpdate,
    SilenceCreate,
    SilenceRead,
    TargetCreate,
    TargetCreated,
    TargetRead,
    TargetTestResult,
)

router = api_router(prefix="/ops/alerts", tags=["ops"])

Watcher = Annotated[Principal, Depends(require("ops.monitor"))]
Manager = Annotated[Principal, Depends(require("ops.alerts"))]


@router.get("/metrics", operation_id="ops-alerts-metrics", response_model=list[MetricChoice], summary="Metrics a rule may watch")
async def list_metrics(principal: Watcher) -> list[MetricChoice]:
    return service.metrics(principal=principal)


@router.get("/templates", operation_id="ops-alerts-templates", response_model=list[RuleTemplate], summary="Ready-made rules")
async def list_templates(principal: Watcher) -> list[RuleTemplate]:
    return list(service.TEMPLATES)


@router.get("/rules", operation_id="ops-alerts-rules-list", response_model=list[RuleRead], summary="Alert rules")
async def list_rules(session: SessionDep, principal: Watcher) -> list[RuleRead]:
    return await service.read_rules(session=session, rules=await service.list_rules(session=session, principal=principal))


@router.post("/rules", operation_id="ops-alerts-rules-create", status_code=201, response_model=RuleRead, summary="New rule")
async def create_rule(session: SessionDep, principal: Manager, origin: OriginDep, rule_in: RuleCreate) -> RuleRead:
    rule = await service.create_rule(session=session, principal=principal, rule_in=rule_in, origin=origin)
    return (await service.read_rules(session=session, rules=[rule]))[0]


@router.get("/rules/{rule_id}", operation_id="ops-alerts-rules-get", response_model=RuleRead, summary="One rule")
async def get_rule(session: SessionDep, principal: Watcher, rule_id: uuid.UUID) -> RuleRead:
    rule = await service.get_rule_or_raise(session=session, principal=principal, rule_id=rule_id)
    return (await service.read_rules(session=session, rules=[rule]))[0]


@router.patch("/rules/{rule_id}", operation_id="ops-alerts-rules-update", response_model=RuleRead, summary="Change a rule")
async def update_rule(
    session: SessionDep, principal: Manager, origin: OriginDep, rule_id: uuid.UUID, rule_in: RuleUpdate
) -> RuleRead:
    rule = await service.update_rule(session=session, principal=principal, rule_id=rule_id, rule_in=rule_in, origin=origin)
    return (await service.read_rules(session=session, rules=[rule]))[0]


@router.delete("/rules/{rule_id}", operation_id="ops-alerts-rules-delete", status_code=204, summary="Delete a rule")
async def delete_rule(session: SessionDep, principal: Manager, origin: OriginDep, rule_id: uuid.UUID) -> None:
    await service.delete_rule(session=session, principal=principal, rule_id=rule_id, origin=origin)


@router.get("/targets", operation_id="ops-alerts-targets-list", response_model=list[TargetRead], summary="Notification targets")
async def list_targets(session: SessionDep, principal: Watcher) -> list[TargetRead]:
    return [service.read_target(target) for target in await service.list_targets(session=session, principal=principal)]


@router.post(
    "/targets",
    operation_id="ops-alerts-targets-create",
    status_code=201,
    response_model=TargetCreated,
    summary="New target (a webhook's secret is shown once)",
)
async def create_target(
    session: SessionDep, principal: Manager, settings: SettingsDep, origin: OriginDep, target_in: TargetCreate
) -> TargetCreated:
    target, secret = await service.create_target(
        session=session, principal=principal, settings=settings, target_in=target_in, origin=origin
    )
    return service.read_created_target(target, secret)


@router.delete("/targets/{target_id}", operation_id="ops-alerts-targets-delete", status_code=204, summary="Delete a target")
async def delete_target(session: SessionDep, principal: Manager, origin: OriginDep, target_id: uuid.UUID) -> None:
    await service.delete_target(session=session, principal=principal, target_id=target_id, origin=origin)


@router.post(
    "/targets/{target_id}/test",
    operation_id="ops-alerts-targets-test",
    response_model=TargetTestResult,
    summary="Send a test notification",
)
async def test_target(
    session: SessionDep, principal: Manager, settings: SettingsDep, origin: OriginDep, target_id: uuid.UUID
) -> TargetTestResult:
    return await service.test_target(session=session, principal=principal, settings=settings, target_id=target_id, origin=origin)


@router.get(
    "/instances", operation_id="ops-alerts-instances", response_model=list[InstanceRead], summary="Pending and firing now"
)
async def list_instances(session: SessionDep, principal: Watcher) -> list[InstanceRead]:
    return await service.list_instances(session=session, principal=principal)


@router.get("/events", operation_id="ops-alerts-events", response_model=EventPage, summary="History, newest first")
async def list_events(
    session: SessionDep,
    principal: Watcher,
    limit: Limit = 50,
    offset: Offset = 0,
    rule_id: Annotated[uuid.UUID | None, Query(description="Only this rule's history.")] = None,
) -> EventPage:
    return await service.list_events(session=session, principal=principal, rule_id=rule_id, limit=limit, offset=offset)


@router.get("/silences", operation_id="ops-alerts-silences-list", response_model=list[SilenceRead], summary="Silences")
async def list_silences(session: SessionDep, principal: Watcher) -> list[SilenceRead]:
    return [service.read_silence(silence) for silence in await service.list_silences(session=session, principal=principal)]


@router.post(
    "/silences", operation_id="ops-alerts-silences-create", status_code=201, response_model=SilenceRead, summary="New silence"
)
async def create_silence(session: SessionDep, principal: Manager, origin: OriginDep, silence_in: SilenceCreate) -> SilenceRead:
    silence = await service.create_silence(session=session, principal=principal, silence_in=silence_in, origin=origin)
    return service.read_silence(silence)


@router.delete(
    "/silences/{silence_id}", operation_id="ops-alerts-silences-expire", response_model=SilenceRead, summary="End a silence now"
)
async def expire_silence(session: SessionDep, principal: Manager, origin: OriginDep, silence_id: uuid.UUID) -> SilenceRead:
    silence = await service.expire_silence(session=session, principal=principal, silence_id=silence_id, origin=origin)
    return service.read_silence(silence)
