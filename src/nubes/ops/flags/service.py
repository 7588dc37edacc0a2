"""Rules of feature flags: the one cached read (`enabled`), the values admins set per install and per tenant, audited.

A flag's value for a tenant is the tenant's own value (tenant-scope flags only), else the install's, else the
catalog's default. `enabled()` is what code reads on its hot paths: it answers from `CACHE` (no query when warm). Each
change bumps the cache's version at the flush (this process), again when the transaction ends (a rolled-back
change is forgotten too), and, with Redis, is announced on the event bus (`CHANNEL`) before the answer, so every
replica drops what it kept. A message lost while Redis restarts is bounded by `TTL` seconds.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.errors import Forbidden
from nubes.core.events import Bus
from nubes.core.jobs import after_commit, after_rollback
from nubes.core.principal import Principal
from nubes.identity.tenants import service as tenants
from nubes.identity.users import service as users
from nubes.ops import service as ops
from nubes.ops.flags.catalog import FLAGS, GROUPS, PLATFORM_PAGES, Flag, get_or_raise
from nubes.ops.flags.models import InstallFeatureFlag, TenantFeatureFlag
from nubes.ops.flags.schemas import (
    FlagList,
    FlagOverride,
    FlagOverrides,
    FlagRead,
    PlatformSetting,
    SettingsGroupRead,
    SettingsOverview,
    Source,
)

CHANNEL = "ops.flags"
"""The event bus channel a change of any flag is announced on (the message carries nothing: every replica forgets all)."""
TTL = 30.0
"""Seconds a kept value lives at most: bounds what no announcement reached (rows changed by hand, Redis away)."""
TENANTS_KEPT = 10_000
"""Most tenants whose values are kept per database; the least recently read goes first."""
OVERRIDES_LIMIT = 200
"""Most tenants listed with their own value of one flag."""


@dataclass(slots=True)
class _Kept:
    values: dict[str, bool]
    until: float


_ByTenant = OrderedDict[uuid.UUID | None, _Kept]


class FlagCache:
    """The values admins chose, per database and tenant (`None`: the install's), kept until a change bumps `version`."""

    def __init__(self, *, ttl: float = TTL, size: int = TENANTS_KEPT) -> None:
        self.ttl = ttl
        self.size = size
        self.version = 0
        self.loads = 0
        self._kept: weakref.WeakKeyDictionary[Engine | Connection, _ByTenant] = weakref.WeakKeyDictionary()

    def bump(self) -> None:
        """Forget everything: a flag changed (here, or on another replica)."""
        self.version += 1
        self._kept.clear()

    async def values(self, session: AsyncSession, tenant_id: uuid.UUID | None) -> dict[str, bool]:
        """The values chosen for `tenant_id` (the install's for None), from what is kept or read once."""
        bind = session.get_bind()  # the engine; a test's own connection (its rolled-back values stay its own)
        kept = self._kept.get(bind)
        entry = kept.get(tenant_id) if kept is not None else None
        if entry is not None and time.monotonic() < entry.until:
            return entry.values
        version = self.version
        values = await _load(session, tenant_id)
        self.loads += 1
        if version == self.version:  # no change landed while reading: safe to keep
            kept = self._kept.setdefault(bind, OrderedDict())
            kept[tenant_id] = _Kept(values, time.monotonic() + self.ttl)
            kept.move_to_end(tenant_id)
            while len(kept) > self.size:
                kept.popitem(last=False)
        return values


CACHE = FlagCache()
"""This process's cache of flag values (one per process: `enabled()` takes no app)."""

_buses: set[Bus] = set()  # the shared buses of the running servers of this process (tasks.py adds and removes them)


def listen(bus: Bus) -> None:
    """Forget kept values on every change announced on `bus` (subscribe before the bus runs)."""
    bus.subscribe(CHANNEL, _heard)


def announce_on(bus: Bus) -> None:
    """Announce this process's changes on `bus` when it reaches other processes (the server's life)."""
    if bus.shared:
        _buses.add(bus)


def stop_announcing(bus: Bus) -> None:
    """Stop announcing on `bus` (the server is stopping)."""
    _buses.discard(bus)


def _heard(message: str) -> None:
    CACHE.bump()


async def _load(session: AsyncSession, tenant_id: uuid.UUID | None) -> dict[str, bool]:
    if tenant_id is None:
        rows = await session.execute(select(InstallFeatureFlag.key, InstallFeatureFlag.enabled))
    else:
        query = select(TenantFeatureFlag.key, TenantFeatureFlag.enabled).where(TenantFeatureFlag.tenant_id == tenant_id)
        rows = await session.execute(query)
    return dict(rows.all())


def _resolve(flag: Flag, install: Mapping[str, bool], tenant: Mapping[str, bool]) -> tuple[bool, Source]:
    if flag.scope == "tenant" and flag.key in tenant:
        return tenant[flag.key], "tenant"
    if flag.key in install:
        return install[flag.key], "install"
    return flag.default, "default"


async def enabled(*, session: AsyncSession, key: str, tenant_id: uuid.UUID | None) -> bool:
    """Whether the flag `key` is on for `tenant_id` (None: the install's value); no query once its values are kept.

    Raises `UnknownFlag` (404) for a key the catalog does not list: a typo in code fails its first test.
    """
    flag = get_or_raise(key)
    install = await CACHE.values(session, None)
    tenant = await CACHE.values(session, tenant_id) if flag.scope == "tenant" and tenant_id is not None else {}
    return _resolve(flag, install, tenant)[0]


def _changed(session: AsyncSession) -> None:
    """Forget kept values now (this transaction reads its own change), when it ends, and on every other replica."""
    CACHE.bump()
    after_rollback(session, CACHE.bump)
    after_commit(session, _announce, before_answer=bool(_buses))


def _announce() -> Any:
    CACHE.bump()
    if not _buses:
        return None
    return asyncio.gather(*(bus.publish(CHANNEL, "changed") for bus in _buses))


def _read(flag: Flag, install: Mapping[str, bool], tenant: Mapping[str, bool], *, superadmin: bool) -> FlagRead:
    value, source = _resolve(flag, install, tenant)
    return FlagRead(
        key=flag.key, title=flag.title, description=flag.description, scope=flag.scope, since=flag.since,
        default=flag.default, enabled=value, source=source,
        tenant_value=tenant.get(flag.key) if flag.scope == "tenant" else None,
        install_value=install.get(flag.key) if superadmin else None,
    )  # fmt: skip


async def list_flags(*, session: AsyncSession, principal: Principal) -> FlagList:
    """Every flag with its value for the principal's tenant and where it comes from."""
    install = await _load(session, None)
    tenant = await _load(session, principal.tenant_id)
    items = [_read(flag, install, tenant, superadmin=principal.is_superadmin) for flag in FLAGS]
    return FlagList(items=items, can_set_install=principal.is_superadmin)


async def get(*, session: AsyncSession, principal: Principal, key: str) -> FlagRead:
    """One flag with its value for the principal's tenant (404 for an unknown key)."""
    flag = get_or_raise(key)
    install = await _load(session, None)
    tenant = await _load(session, principal.tenant_id)
    return _read(flag, install, tenant, superadmin=principal.is_superadmin)


async def set_for_tenant(*, session: AsyncSession, principal: Principal, key: str, value: bool, origin: Origin) -> None:
    """Choose the principal's tenant's value of a tenant-scope flag (403 for an install-scope one), audited."""
    flag = get_or_raise(key)
    if flag.scope != "tenant":
        raise Forbidden(f"{key} applies to the whole install: a platform administrator sets it in Admin → Settings.")
    row = await session.get(TenantFeatureFlag, (principal.tenant_id, key))
    before = None if row is None else row.enabled
    if row is None:
        session.add(TenantFeatureFlag(tenant_id=principal.tenant_id, key=key, enabled=value))
    else:
        row.enabled = value
    await session.flush()
    _changed(session)
    await _audit(session, principal, origin, "ops.flag.tenant_set", key=key, detail={"enabled": value, "before": before})


async def reset_for_tenant(*, session: AsyncSession, principal: Principal, key: str, origin: Origin) -> None:
    """Drop the principal's tenant's own value (the install's or the default applies again), audited."""
    get_or_raise(key)
    row = await session.get(TenantFeatureFlag, (principal.tenant_id, key))
    if row is None:
        return
    before = row.enabled
    await session.delete(row)
    await session.flush()
    _changed(session)
    await _audit(session, principal, origin, "ops.flag.tenant_reset", key=key, detail={"before": before})


async def set_for_install(*, session: AsyncSession, principal: Principal, key: str, value: bool, origin: Origin) -> None:
    """Choose the install's value of a flag (tenants with their own value keep it); platform administrators only."""
    get_or_raise(key)
    row = await session.get(InstallFeatureFlag, key)
    before = None if row is None else row.enabled
    if row is None:
        session.add(InstallFeatureFlag(key=key, enabled=value))
    else:
        row.enabled = value
    await session.flush()
    _changed(session)
    await _audit(session, principal, origin, "ops.flag.install_set", key=key, detail={"enabled": value, "before": before})


async def reset_for_install(*, session: AsyncSession, principal: Principal, key: str, origin: Origin) -> None:
    """Drop the install's value (the default applies again where no tenant chose), audited."""
    get_or_raise(key)
    row = await session.get(InstallFeatureFlag, key)
    if row is None:
        return
    before = row.enabled
    await session.delete(row)
    await session.flush()
    _changed(session)
    await _audit(session, principal, origin, "ops.flag.install_reset", key=key, detail={"before": before})


async def _audit(
    session: AsyncSession, principal: Principal, origin: Origin, action: str, *, key: str, detail: dict[str, Any]
) -> None:
    await audit.record(
        session=session, action=action, origin=origin, principal=principal, target_type="feature_flag", target_id=key,
        detail={"key": key, **detail},
    )  # fmt: skip


async def overrides(*, session: AsyncSession, key: str) -> FlagOverrides:
    """The tenants that chose their own value of a flag (platform administrators: every tenant), newest first."""
    get_or_raise(key)
    where = TenantFeatureFlag.key == key
    total = await session.scalar(select(func.count()).select_from(TenantFeatureFlag).where(where))
    query = select(TenantFeatureFlag).where(where).order_by(TenantFeatureFlag.updated_at.desc()).limit(OVERRIDES_LIMIT)
    items = []
    for row in await session.scalars(query):
        tenant = await tenants.get_tenant(session=session, tenant_id=row.tenant_id)
        name = tenant.name
        items.append(FlagOverride(tenant_id=row.tenant_id, tenant_name=name, enabled=row.enabled, updated_at=row.updated_at))
    return FlagOverrides(key=key, items=items, total=int(total or 0))


async def overview(*, session: AsyncSession, principal: Principal) -> SettingsOverview:
    """The Settings area for the principal: the groups they may open (with the flags' summary), platform settings."""
    flags = await list_flags(session=session, principal=principal)
    on = sum(flag.enabled for flag in flags.items)
    summaries = {"flags": f"{on} of {len(flags.items)} on"}
    if principal.is_superadmin:
        registration = await users.registration_settings(session=session)
        opened = f"Open: people sign up into {registration.tenant_slug}"
        summaries["registration"] = opened if registration.enabled else "Closed: only admins create accounts"
    groups = [
        SettingsGroupRead(
            key=group.key, title=group.title, description=group.description, scope=group.scope, page=group.page,
            permission=group.permission, summary=summaries.get(group.key),
        )
        for group in GROUPS
        if principal.is_superadmin or (group.permission != "superadmin" and principal.can(group.permission))
    ]  # fmt: skip
    platform: list[PlatformSetting] = []
    if principal.is_superadmin:
        stored = await ops.list_settings(session=session)
        platform = [PlatformSetting(key=key, page=PLATFORM_PAGES.get(key)) for key in stored]
    return SettingsOverview(groups=groups, platform=platform)
