"""Rules of the service registry: registering services, their health, who may use them, and their settings.

Services are platform-wide: registering one makes the server fetch URLs, so it is a super-admin's act. Each tenant
gets a `<slug>-admin` group per service (idempotently); its members, and tenant admins holding `apps.manage`, manage
the service's settings for their tenant. A user may open a service when they hold `apps.use` and the manifest's
required permissions, and either nothing is granted in their tenant and no group is required (open to everyone),
or they or one of their groups is granted, or they are in a required group. Super-admins pass when the manifest
allows them (`allow_superuser`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
import structlog
from sqlalchemy import case, delete, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.apps.registry.health import Fetcher, FetchError, HealthResult, check, fetch_manifest
from nubes.apps.registry.manifest import (
    Manifest,
    ManifestSettingField,
    SettingValue,
    admin_group_description,
    admin_group_name,
    check_setting,
)
from nubes.apps.registry.models import (
    AppGroupPermission,
    AppService,
    AppServiceCheck,
    AppServiceSettings,
    AppUserPermission,
)
from nubes.apps.registry.schemas import (
    AppPermissionGrant,
    AppPermissionList,
    AppPermissionRead,
    AppServiceEntry,
    AppServiceRegister,
    AppServiceSettingsRead,
    AppServiceSettingsUpdate,
    AppServiceUpdate,
)
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.crypto import seal
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, FieldError, Forbidden, NotFound, UnprocessableEntity
from nubes.core.events import Bus
from nubes.core.jobs import after_commit
from nubes.core.principal import Principal
from nubes.identity.groups import service as groups_service
from nubes.identity.roles import catalog
from nubes.identity.users import directory

log = structlog.get_logger("nubes.apps")

STATUS_CHANNEL = "apps.services"
"""Event bus channel: a service's status or availability changed (JSON: id, slug, status, enabled, deleted)."""
KEEP_CHECKS = timedelta(days=7)
MAX_CHECKS = 2000
"""Health checks kept per service (and none older than KEEP_CHECKS)."""
MAX_GRANTS = 1000
"""Users and groups one tenant may grant one service to."""
POLL_CONCURRENCY = 8
SETTINGS_PURPOSE = "apps-settings"


class RegistrationRefused(UnprocessableEntity):
    """The URL or what the service answered there cannot be registered; `detail` says why."""

    code, title = "service-refused", "Service refused"


@dataclass(frozen=True, slots=True)
class ExposedRoute:
    """A path prefix of the service the gateway forwards, with the methods it allows there."""

    path: str
    methods: frozenset[str]


@dataclass(frozen=True, slots=True)
class GatewayTarget:
    """What the gateway needs to forward a request to a service the caller may use."""

    service_id: uuid.UUID
    slug: str
    name: str
    base_url: str
    status: str
    routes: tuple[ExposedRoute, ...]
    timeout_seconds: float
    max_body_bytes: int
    isolated: bool = False
    status_since: datetime | None = None


# --- manifests ------------------------------------------------------------------------------------

_PARSED: dict[tuple[uuid.UUID, str], Manifest] = {}


def manifest_of(service: AppService) -> Manifest:
    """The service's stored manifest, parsed (kept per process until the manifest changes)."""
    key = (service.id, service.manifest_fetched_at.isoformat())
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) > 512:
            _PARSED.clear()
        parsed = _PARSED[key] = Manifest.model_validate(service.manifest)
    return parsed


def icon_url(service: AppService) -> str:
    """Where a browser loads the service's icon: through the gateway for a path, as is for a data: URI."""
    icon = service.icon
    return f"/apps/{service.slug}{icon}" if icon.startswith("/") else icon


def check_base_url(url: str) -> str:
    """The base URL without its trailing slash; RegistrationRefused when it is not an http(s) URL Nubes may call.

    Private addresses are allowed (services usually live beside Nubes); link-local ones (cloud metadata) are not.
    """
    text = url.strip()
    if any(character.isspace() or not character.isprintable() for character in text):
        raise RegistrationRefused("The URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise RegistrationRefused(f"This is not a URL: {exc}.") from None
    if parts.scheme not in {"http", "https"}:
        raise RegistrationRefused("The service's URL must start with http:// or https://.")
    if not parts.hostname:
        raise RegistrationRefused("The service's URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise RegistrationRefused("The service's URL cannot carry a user name or password.")
    if parts.query or parts.fragment:
        raise RegistrationRefused("The service's URL takes no query (?...) or fragment (#...).")
    if port == 0:
        raise RegistrationRefused("The service's URL has no valid port.")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        pass
    else:
        if address.is_link_local or address.is_multicast or address.is_unspecified:
            raise RegistrationRefused(f"{address} is a link-local, multicast or unspecified address; Nubes does not call it.")
    return text.rstrip("/")


def _check_references(manifest: Manifest) -> None:
    unknown = sorted(set(manifest.required_permissions) - catalog.CODES)
    if unknown:
        raise FetchError(f"The manifest requires unknown permissions: {', '.join(unknown)}.")
    if admin_group_name(manifest.id) in catalog.SERVICE_ADMIN_GROUPS:
        raise FetchError(f"The id {manifest.id!r} is taken by Nubes itself; the service must use another id.")


def _apply_manifest(service: AppService, manifest: Manifest) -> None:
    service.name = manifest.name
    service.icon = manifest.icon
    service.description = manifest.description
    service.manifest = manifest.model_dump(mode="json")
    service.manifest_fetched_at = utcnow()


# --- registry (super-admins) ---------------------------------------------------------------------


async def list_services(*, session: AsyncSession) -> list[AppService]:
    """Every registered service, by name."""
    return list(await session.scalars(select(AppService).order_by(AppService.name, AppService.slug)))


async def get_or_raise(*, session: AsyncSession, service_id: uuid.UUID) -> AppService:
    """A registered service, or 404."""
    service = await session.get(AppService, service_id)
    if service is None:
        raise NotFound("No such service; it may have been deleted.")
    return service


async def ensure_admin_groups(*, session: AsyncSession, slug: str, tenant_ids: Iterable[uuid.UUID] | None = None) -> int:
    """Give every tenant (or those named) the service's `<slug>-admin` group unless it has it; how many were made."""
    return await groups_service.ensure_groups(
        session=session,
        name=admin_group_name(slug),
        description=admin_group_description(slug),
        tenant_ids=tenant_ids,
    )


async def register(
    *,
    session: AsyncSession,
    principal: Principal | None,
    fetcher: Fetcher,
    service_in: AppServiceRegister,
    origin: Origin,
    events: Bus | None = None,
) -> AppService:
    """Register the service answering at `service_in.base_url` (`principal` None: from NUBES_APPS_SERVICES).

    Its manifest is fetched and checked first: a URL that does not answer with a valid one is refused with the reason.
    The session's transaction ends before the fetch (nothing is written yet): a slow service holds no database lock,
    which on SQLite would be the install's one writer for up to the fetch's timeout.
    """
    base_url = check_base_url(service_in.base_url)
    await session.commit()
    try:
        manifest = await fetch_manifest(fetcher, base_url)
        _check_references(manifest)
    except FetchError as exc:
        raise RegistrationRefused(f"{exc} Nothing was registered.") from None
    if await session.scalar(select(AppService.id).where(AppService.slug == manifest.id)):
        raise Conflict(f"A service with the id {manifest.id!r} is registered already; refresh or delete that one.")
    service = AppService(slug=manifest.id, base_url=base_url, status="unknown", last_error="", enabled=True)
    _apply_manifest(service, manifest)
    session.add(service)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"A service with the id {manifest.id!r} was registered meanwhile.") from None
    await ensure_admin_groups(session=session, slug=service.slug)
    await audit.record(
        session=session,
        action="app.service.register",
        origin=origin,
        principal=principal,
        actor_name="" if principal else "system",
        target_type="app_service",
        target_id=service.id,
        detail={"slug": service.slug, "base_url": base_url},
    )
    _announce_after_commit(session, events, service)
    return service


async def update(
    *,
    session: AsyncSession,
    principal: Principal,
    service: AppService,
    service_in: AppServiceUpdate,
    origin: Origin,
    events: Bus | None = None,
) -> AppService:
    """Enable or disable a service (a disabled one is hidden from the Apps page and not proxied)."""
    if service_in.enabled is not None and service_in.enabled != service.enabled:
        service.enabled = service_in.enabled
        await session.flush()
        await audit.record(
            session=session,
            action="app.service.enable" if service.enabled else "app.service.disable",
            origin=origin,
            principal=principal,
            target_type="app_service",
            target_id=service.id,
            detail={"slug": service.slug},
        )
        _announce_after_commit(session, events, service)
    return service


async def delete_service(
    *, session: AsyncSession, principal: Principal, service: AppService, origin: Origin, events: Bus | None = None
) -> None:
    """Remove a service with its health history, settings and grants (its `<slug>-admin` groups stay)."""
    for table in (AppServiceCheck, AppServiceSettings, AppUserPermission, AppGroupPermission):
        await session.execute(delete(table).where(table.service_id == service.id))
    message = _status_message(service, deleted=True)
    await session.delete(service)
    await session.flush()
    await audit.record(
        session=session,
        action="app.service.delete",
        origin=origin,
        principal=principal,
        target_type="app_service",
        target_id=service.id,
        detail={"slug": service.slug, "base_url": service.base_url},
    )
    if events is not None:
        after_commit(session, lambda: events.publish(STATUS_CHANNEL, message))


async def refresh(*, session: AsyncSession, fetcher: Fetcher, service: AppService, events: Bus | None = None) -> AppService:
    """Check the service's health and manifest now, as the periodic check does; outside any transaction, as in
    `register` (the row is read again after)."""
    base_url, slug = service.base_url, service.slug
    await session.commit()
    result = await check(fetcher, base_url, expected_id=slug)
    await session.refresh(service)
    if record_check(session=session, service=service, result=result):
        _announce_after_commit(session, events, service)
    await session.flush()
    return service


def record_check(*, session: AsyncSession, service: AppService, result: HealthResult) -> bool:
    """Store a health check's outcome on the service and in its history; whether what the gateway reads changed (the
    status, or the manifest: routes, limits).

    A manifest that changed replaces the stored one when it is valid; a bad one keeps the last good manifest and
    its reason becomes the service's last error.
    """
    previous = service.status
    manifest_error = result.manifest_error
    manifest_changed = False
    if result.manifest is not None and result.manifest.model_dump(mode="json") != service.manifest:
        try:
            _check_references(result.manifest)
        except FetchError as exc:
            manifest_error = str(exc)
        else:
            _apply_manifest(service, result.manifest)
            manifest_changed = True
    now = utcnow()
    service.status = "up" if result.ok else "down"
    service.last_checked_at = now
    if service.status != previous:
        service.status_since = now
    service.last_error = "; ".join(error for error in (result.error, manifest_error) if error)[:1000]
    session.add(
        AppServiceCheck(
            service_id=service.id, checked_at=now, ok=result.ok, status_code=result.status_code,
            latency_ms=result.latency_ms, error=(result.error or manifest_error)[:500],
        )
    )  # fmt: skip
    return service.status != previous or manifest_changed


async def list_checks(
    *, session: AsyncSession, service: AppService, limit: int, offset: int, hours: int | None = None
) -> tuple[list[AppServiceCheck], int]:
    """The service's health checks, newest first (within the last `hours` when given), and how many there are."""
    wanted = [AppServiceCheck.service_id == service.id]
    if hours is not None:
        wanted.append(AppServiceCheck.checked_at >= utcnow() - timedelta(hours=hours))
    total = await session.scalar(select(func.count()).select_from(AppServiceCheck).where(*wanted))
    rows = await session.scalars(
        select(AppServiceCheck).where(*wanted).order_by(AppServiceCheck.checked_at.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def prune_checks(*, session: AsyncSession, service_id: uuid.UUID) -> None:
    """Drop the service's checks older than 7 days, and all but its newest 2,000."""
    await session.execute(
        delete(AppServiceCheck).where(
            AppServiceCheck.service_id == service_id, AppServiceCheck.checked_at < utcnow() - KEEP_CHECKS
        )
    )
    cutoff = await session.scalar(
        select(AppServiceCheck.checked_at)
        .where(AppServiceCheck.service_id == service_id)
        .order_by(AppServiceCheck.checked_at.desc())
        .offset(MAX_CHECKS - 1)
        .limit(1)
    )
    if cutoff is not None:
        await session.execute(
            delete(AppServiceCheck).where(AppServiceCheck.service_id == service_id, AppServiceCheck.checked_at < cutoff)
        )


def _status_message(service: AppService, *, deleted: bool = False) -> str:
    return orjson.dumps(
        {"id": str(service.id), "slug": service.slug, "status": service.status, "enabled": service.enabled, "deleted": deleted}
    ).decode()


def _announce_after_commit(session: AsyncSession, events: Bus | None, service: AppService) -> None:
    if events is not None:
        message = _status_message(service)
        after_commit(session, lambda: events.publish(STATUS_CHANNEL, message))


async def poll(*, sessions: async_sessionmaker[AsyncSession], fetcher: Fetcher, events: Bus) -> int:
    """One round of health checks of every enabled service (a chore); how many changed their status or manifest (each
    announced on the event bus once committed). The checks run outside any transaction; their outcomes are written in one."""
    async with sessions() as session:
        targets = (await session.execute(
            select(AppService.id, AppService.slug, AppService.base_url).where(AppService.enabled.is_(True))
        )).all()  # fmt: skip
    if not targets:
        return 0
    limit = asyncio.Semaphore(POLL_CONCURRENCY)

    async def one(slug: str, base_url: str) -> HealthResult:
        async with limit:
            return await check(fetcher, base_url, expected_id=slug)

    results = await asyncio.gather(*(one(slug, base_url) for _id, slug, base_url in targets))
    changed: list[str] = []
    async with sessions() as session:
        for (service_id, _slug, _base_url), result in zip(targets, results, strict=True):
            service = await session.get(AppService, service_id)
            if service is None:  # deleted meanwhile
                continue
            if record_check(session=session, service=service, result=result):
                changed.append(_status_message(service))
            await session.flush()
            await prune_checks(session=session, service_id=service_id)
        await session.commit()
    for message in changed:
        await events.publish(STATUS_CHANNEL, message)
    return len(changed)


async def register_configured(*, sessions: async_sessionmaker[AsyncSession], fetcher: Fetcher, urls: Sequence[str]) -> None:
    """Register the services of NUBES_APPS_SERVICES not registered yet, and give every tenant each service's admin
    group (a tenant made while a service existed has it already; this repairs the others). Failures are logged."""
    for url in urls:
        async with sessions() as session:
            try:
                base_url = check_base_url(url)
                if await session.scalar(select(AppService.id).where(AppService.base_url == base_url)):
                    continue
                service = await register(
                    session=session, principal=None, fetcher=fetcher, service_in=AppServiceRegister(base_url=base_url),
                    origin=Origin(user_agent="nubes NUBES_APPS_SERVICES"),
                )  # fmt: skip
                await session.commit()
                log.info("apps.service_registered", slug=service.slug, base_url=base_url)
            except (RegistrationRefused, Conflict) as exc:
                await session.rollback()
                log.warning("apps.service_not_registered", base_url=url, reason=exc.detail)
    async with sessions() as session:
        for slug in list(await session.scalars(select(AppService.slug))):
            await ensure_admin_groups(session=session, slug=slug)
        await session.commit()


# --- who may use a service ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Grants:
    """Per service of a tenant: whether anything is granted there, and whether the caller is granted."""

    granted_any: frozenset[uuid.UUID]
    mine: frozenset[uuid.UUID]


async def _grants(session: AsyncSession, principal: Principal, service_ids: Sequence[uuid.UUID]) -> _Grants:
    if not service_ids:
        return _Grants(frozenset(), frozenset())
    users = (
        select(
            AppUserPermission.service_id.label("service_id"),
            func.max(case((AppUserPermission.user_id == principal.user_id, 1), else_=0)).label("mine"),
        )
        .where(AppUserPermission.tenant_id == principal.tenant_id, AppUserPermission.service_id.in_(service_ids))
        .group_by(AppUserPermission.service_id)
    )
    mine_by_group = AppGroupPermission.group_id.in_(principal.group_ids) if principal.group_ids else literal(False)
    groups = (
        select(
            AppGroupPermission.service_id.label("service_id"),
            func.max(case((mine_by_group, 1), else_=0)).label("mine"),
        )
        .where(AppGroupPermission.tenant_id == principal.tenant_id, AppGroupPermission.service_id.in_(service_ids))
        .group_by(AppGroupPermission.service_id)
    )
    rows = (await session.execute(union_all(users, groups))).all()
    return _Grants(frozenset(row[0] for row in rows), frozenset(row[0] for row in rows if row[1]))


def _may_use(
    principal: Principal, service: AppService, manifest: Manifest, grants: _Grants, group_ids: dict[str, uuid.UUID]
) -> bool:
    if not principal.can("apps.use"):
        return False
    if manifest.allow_superuser and principal.is_superadmin:
        return True
    if any(not principal.can(code) for code in manifest.required_permissions):
        return False
    if service.id not in grants.granted_any and not manifest.required_groups:
        return True
    in_required = any(group_ids.get(name) in principal.group_ids for name in manifest.required_groups)
    return service.id in grants.mine or in_required


async def _groups_named(session: AsyncSession, principal: Principal, manifests: Iterable[Manifest]) -> dict[str, uuid.UUID]:
    names = {name for manifest in manifests for name in (*manifest.required_groups, admin_group_name(manifest.id))}
    return await groups_service.group_ids_named(session=session, tenant_id=principal.tenant_id, names=names)


async def resolve_for_gateway(*, session: AsyncSession, principal: Principal, slug: str) -> GatewayTarget:
    """Where the gateway forwards the caller's request to the service `slug`: NotFound for an unknown or disabled
    service, Forbidden when the caller may not use it."""
    service = await session.scalar(select(AppService).where(AppService.slug == slug))
    if service is None or not service.enabled:
        raise NotFound(f"There is no app {slug!r} here; the Apps page lists those you may open.")
    manifest = manifest_of(service)
    grants = await _grants(session, principal, [service.id])
    groups = await _groups_named(session, principal, [manifest]) if manifest.required_groups else {}
    if not _may_use(principal, service, manifest, grants, groups):
        raise Forbidden(f"You may not use {service.name}; ask an admin to let you use {service.name}.")
    return GatewayTarget(
        service_id=service.id, slug=service.slug, name=service.name, base_url=service.base_url, status=service.status,
        routes=tuple(ExposedRoute(route.path, frozenset(route.methods)) for route in manifest.exposed_routes()),
        timeout_seconds=float(manifest.timeout_seconds), max_body_bytes=manifest.max_body_bytes,
        isolated=manifest.isolated, status_since=service.status_since,
    )  # fmt: skip


async def list_for_user(*, session: AsyncSession, principal: Principal) -> list[AppServiceEntry]:
    """The enabled services the caller may open, by name, with their health (four queries, however many)."""
    services = list(await session.scalars(select(AppService).where(AppService.enabled.is_(True)).order_by(AppService.name)))
    manifests = {service.id: manifest_of(service) for service in services}
    grants = await _grants(session, principal, [service.id for service in services])
    groups = await _groups_named(session, principal, manifests.values())
    apps = []
    for service in services:
        manifest = manifests[service.id]
        if not _may_use(principal, service, manifest, grants, groups):
            continue
        ui = manifest.ui
        apps.append(
            AppServiceEntry(
                id=service.id, slug=service.slug, name=service.name, description=service.description,
                icon=icon_url(service), status=service.status,
                last_checked_at=service.last_checked_at,
                open_url=f"/apps/{service.slug}{ui.path}" if ui is not None else None,
                open_in=ui.open_in if ui is not None else "nubes",
                can_manage_settings=principal.can("apps.manage")
                or groups.get(admin_group_name(service.slug)) in principal.group_ids,
            )
        )  # fmt: skip
    return apps


# --- the service's admins and settings, per tenant -----------------------------------------------


async def is_service_admin(*, session: AsyncSession, principal: Principal, service: AppService) -> bool:
    """Whether the principal manages the service for their tenant: `apps.manage`, or a member of `<slug>-admin`
    (seed 002's `get_service_admin`)."""
    if principal.can("apps.manage"):
        return True
    if not principal.group_ids:
        return False
    name = admin_group_name(service.slug)
    found = await groups_service.group_ids_named(session=session, tenant_id=principal.tenant_id, names=[name])
    return found.get(name) in principal.group_ids


async def get_service_admin(*, session: AsyncSession, principal: Principal, service_id: uuid.UUID) -> AppService:
    """The service, when the principal manages it for their tenant; 404 or 403 (naming the group to join) otherwise."""
    service = await get_or_raise(session=session, service_id=service_id)
    if not await is_service_admin(session=session, principal=principal, service=service):
        raise Forbidden(
            f"Managing {service.name} takes membership of the group {admin_group_name(service.slug)} (or apps.manage); "
            "ask an admin."
        )
    return service


async def _settings_row(session: AsyncSession, principal: Principal, service: AppService) -> AppServiceSettings | None:
    return await session.scalar(
        select(AppServiceSettings).where(
            AppServiceSettings.service_id == service.id, AppServiceSettings.tenant_id == principal.tenant_id
        )
    )


def _settings_read(fields: list[ManifestSettingField], row: AppServiceSettings | None) -> AppServiceSettingsRead:
    stored = row.values if row is not None else {}
    return AppServiceSettingsRead(
        fields=fields,
        values={field.key: stored.get(field.key, field.default) for field in fields if field.type != "secret"},
        secrets_set={field.key: bool(stored.get(field.key)) for field in fields if field.type == "secret"},
        updated_at=row.updated_at if row is not None else None,
    )


async def get_settings(*, session: AsyncSession, principal: Principal, service: AppService) -> AppServiceSettingsRead:
    """The tenant's settings for the service (secrets only as set or not); the caller manages the service."""
    return _settings_read(manifest_of(service).settings, await _settings_row(session, principal, service))


async def update_settings(
    *,
    session: AsyncSession,
    principal: Principal,
    service: AppService,
    settings_in: AppServiceSettingsUpdate,
    secret_key: str,
    origin: Origin,
) -> AppServiceSettingsRead:
    """Check the values against the manifest's fields and store them (secrets sealed); 422 naming each bad one."""
    fields = {field.key: field for field in manifest_of(service).settings}
    row = await _settings_row(session, principal, service)
    values: dict[str, Any] = {key: value for key, value in (row.values if row else {}).items() if key in fields}
    errors: list[FieldError] = []
    for key, value in settings_in.values.items():
        field = fields.get(key)
        if field is None:
            errors.append(FieldError(loc=["body", "values", key], msg=f"{service.name} has no setting {key!r}", type="unknown"))
            continue
        if value is None:
            values.pop(key, None)
            continue
        try:
            checked: SettingValue = check_setting(field, value)
        except ValueError as exc:
            errors.append(FieldError(loc=["body", "values", key], msg=str(exc), type="invalid"))
            continue
        values[key] = (
            seal(secret_key, f"{SETTINGS_PURPOSE}:{service.id}:{key}", str(checked)) if field.type == "secret" else checked
        )
    for key, field in fields.items():
        if (
            field.required
            and values.get(key) is None
            and (field.type == "secret" or field.default is None)
            and not any(error.loc[-1] == key for error in errors)
        ):
            errors.append(FieldError(loc=["body", "values", key], msg=f"{field.label} is required", type="missing"))
    if errors:
        raise UnprocessableEntity(f"Some settings of {service.name} are not valid; correct them and save again.", errors=errors)
    if row is None:
        row = AppServiceSettings(service_id=service.id, tenant_id=principal.tenant_id)
        session.add(row)
    row.values = values
    row.updated_by = principal.user_id
    row.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session=session,
        action="app.settings.update",
        origin=origin,
        principal=principal,
        target_type="app_service",
        target_id=service.id,
        detail={"slug": service.slug, "keys": sorted(settings_in.values)},
    )
    return _settings_read(list(fields.values()), row)


# --- grants: who in a tenant may use a service -----------------------------------------------------


async def list_permissions(*, session: AsyncSession, principal: Principal, service: AppService) -> AppPermissionList:
    """Who in the principal's tenant is granted the service, users then groups."""
    tenant = principal.tenant_id
    users = list(await session.scalars(
        select(AppUserPermission).where(AppUserPermission.tenant_id == tenant, AppUserPermission.service_id == service.id)
    ))  # fmt: skip
    groups = list(await session.scalars(
        select(AppGroupPermission).where(AppGroupPermission.tenant_id == tenant, AppGroupPermission.service_id == service.id)
    ))  # fmt: skip
    granters = [grant.granted_by for grant in users] + [grant.granted_by for grant in groups]
    people = await directory.user_names(session=session, tenant_id=tenant, ids=[grant.user_id for grant in users] + granters)
    group_names = await directory.group_names(session=session, tenant_id=tenant, ids=[grant.group_id for grant in groups])
    items = [
        AppPermissionRead(
            id=grant.id, kind="user", user_id=grant.user_id, group_id=None, name=people.get(grant.user_id, "(deleted)"),
            granted_by=people.get(grant.granted_by, "") if grant.granted_by else "", granted_at=grant.granted_at,
        )
        for grant in users
    ] + [
        AppPermissionRead(
            id=grant.id, kind="group", user_id=None, group_id=grant.group_id, name=group_names.get(grant.group_id, "(deleted)"),
            granted_by=people.get(grant.granted_by, "") if grant.granted_by else "", granted_at=grant.granted_at,
        )
        for grant in groups
    ]  # fmt: skip
    items.sort(key=lambda item: (item.kind != "user", item.name.lower()))
    required = manifest_of(service).required_groups
    return AppPermissionList(open_to_everyone=not items and not required, required_groups=list(required), items=items)


async def grant(
    *, session: AsyncSession, principal: Principal, service: AppService, grant_in: AppPermissionGrant, origin: Origin
) -> AppPermissionList:
    """Let a user or a group of the principal's tenant use the service (granting twice changes nothing); audited."""
    tenant = principal.tenant_id
    model: type[AppUserPermission] | type[AppGroupPermission]
    if grant_in.user_id is not None:
        names = await directory.user_names(session=session, tenant_id=tenant, ids=[grant_in.user_id])
        model, who, column = AppUserPermission, grant_in.user_id, AppUserPermission.user_id
    else:
        names = await directory.group_names(session=session, tenant_id=tenant, ids=[grant_in.group_id])
        model, who, column = AppGroupPermission, grant_in.group_id, AppGroupPermission.group_id  # type: ignore[assignment]
    if who not in names:
        raise NotFound(f"No such {'user' if grant_in.user_id else 'group'} in your organization.")
    scope = (model.tenant_id == tenant, model.service_id == service.id)
    if not await session.scalar(select(model.id).where(*scope, column == who)):
        if (await session.scalar(select(func.count()).select_from(model).where(*scope)) or 0) >= MAX_GRANTS:
            raise UnprocessableEntity(f"{service.name} is granted to {MAX_GRANTS} of them already; grant a group instead.")
        fields = {"user_id": who} if model is AppUserPermission else {"group_id": who}
        session.add(model(tenant_id=tenant, service_id=service.id, granted_by=principal.user_id, **fields))
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            pass  # granted meanwhile: the same outcome
        else:
            await audit.record(
                session=session,
                action="app.permission.grant",
                origin=origin,
                principal=principal,
                target_type="app_service",
                target_id=service.id,
                detail={"slug": service.slug, "user_id" if grant_in.user_id else "group_id": str(who), "name": names[who]},
            )
    return await list_permissions(session=session, principal=principal, service=service)


async def revoke(
    *, session: AsyncSession, principal: Principal, service: AppService, permission_id: uuid.UUID, origin: Origin
) -> None:
    """Take a grant of the principal's tenant back; 404 for another tenant's or an unknown one. Audited."""
    mine = (AppUserPermission.tenant_id == principal.tenant_id, AppUserPermission.service_id == service.id)
    user_grant = await session.scalar(select(AppUserPermission).where(AppUserPermission.id == permission_id, *mine))
    found: AppUserPermission | AppGroupPermission | None = user_grant
    who = {"user_id": str(user_grant.user_id)} if user_grant is not None else {}
    if found is None:
        theirs = (AppGroupPermission.tenant_id == principal.tenant_id, AppGroupPermission.service_id == service.id)
        group_grant = await session.scalar(select(AppGroupPermission).where(AppGroupPermission.id == permission_id, *theirs))
        who = {"group_id": str(group_grant.group_id)} if group_grant is not None else {}
        found = group_grant
    if found is not None:
        await session.delete(found)
        await session.flush()
        await audit.record(
            session=session,
            action="app.permission.revoke",
            origin=origin,
            principal=principal,
            target_type="app_service",
            target_id=service.id,
            detail={"slug": service.slug, **who},
        )
        return
    raise NotFound("No such grant for this app in your organization.")
