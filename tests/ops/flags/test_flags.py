"""Feature flags' one cached read on both engines: the tenant's value, else the install's, else the default; no query
while warm; a change (here, or announced by another process on the event bus) is seen by the next read; a rolled-back
change is forgotten."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.errors import Forbidden
from nubes.core.events import Bus
from nubes.core.principal import Principal
from nubes.ops.flags import catalog, service
from nubes.ops.flags.models import TenantFeatureFlag
from tests.factories import ORIGIN, make_tenant, make_user

TENANT_FLAG = "search.ocr_files"
INSTALL_FLAG = "files.dav_infinity"


async def admin_of(session: AsyncSession, settings: Settings, *, superadmin: bool = False) -> Principal:
    """A tenant's admin (or a platform administrator) of a new tenant, as services receive them."""
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant, roles=("admin",), superadmin=superadmin)
    return Principal(
        user_id=user.id, tenant_id=tenant.id, username=user.username, permissions=frozenset({"admin.settings"}),
        is_superadmin=superadmin,
    )  # fmt: skip


async def is_on(session: AsyncSession, key: str, tenant_id: uuid.UUID | None) -> bool:
    return await service.enabled(session=session, key=key, tenant_id=tenant_id)


async def test_new_features_are_off_and_documented() -> None:
    assert catalog.FLAGS, "the catalog lists flags"
    for flag in catalog.FLAGS:
        assert flag.default is False, f"{flag.key}: a new feature starts off"
        assert flag.title, f"{flag.key}: give it a title"
        assert len(flag.description) > 40, f"{flag.key}: say what it does"
        assert flag.scope in {"install", "tenant"}
        domain, _, feature = flag.key.partition(".")
        assert domain, f"{flag.key}: name it <domain>.<feature>"
        assert feature, f"{flag.key}: name it <domain>.<feature>"


async def test_the_tenants_value_wins_over_the_installs_which_wins_over_the_default(
    session: AsyncSession, settings: Settings
) -> None:
    """GIVEN two tenants and a platform administrator
    WHEN the install turns a tenant-scope flag on and one tenant turns it off for itself
    THEN that tenant has it off, the other on; resetting the tenant's value gives it the install's again."""
    root = await admin_of(session, settings, superadmin=True)
    alpha = await admin_of(session, settings)
    beta = await admin_of(session, settings)
    assert [await is_on(session, TENANT_FLAG, alpha.tenant_id), await is_on(session, TENANT_FLAG, None)] == [False, False]

    await service.set_for_install(session=session, principal=root, key=TENANT_FLAG, value=True, origin=ORIGIN)
    await service.set_for_tenant(session=session, principal=alpha, key=TENANT_FLAG, value=False, origin=ORIGIN)
    assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is False
    assert await is_on(session, TENANT_FLAG, beta.tenant_id) is True
    assert await is_on(session, TENANT_FLAG, None) is True
    sources = {flag.key: flag.source for flag in (await service.list_flags(session=session, principal=alpha)).items}
    assert sources == {TENANT_FLAG: "tenant", INSTALL_FLAG: "default"}

    await service.reset_for_tenant(session=session, principal=alpha, key=TENANT_FLAG, origin=ORIGIN)
    assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is True
    await service.reset_for_install(session=session, principal=root, key=TENANT_FLAG, origin=ORIGIN)
    assert await is_on(session, TENANT_FLAG, beta.tenant_id) is False


async def test_an_install_scope_flag_ignores_tenants(session: AsyncSession, settings: Settings) -> None:
    root = await admin_of(session, settings, superadmin=True)
    alpha = await admin_of(session, settings)
    with pytest.raises(Forbidden):
        await service.set_for_tenant(session=session, principal=alpha, key=INSTALL_FLAG, value=True, origin=ORIGIN)
    session.add(TenantFeatureFlag(tenant_id=alpha.tenant_id, key=INSTALL_FLAG, enabled=True))  # by hand: still ignored
    await session.flush()
    service.CACHE.bump()
    assert await is_on(session, INSTALL_FLAG, alpha.tenant_id) is False
    await service.set_for_install(session=session, principal=root, key=INSTALL_FLAG, value=True, origin=ORIGIN)
    assert await is_on(session, INSTALL_FLAG, alpha.tenant_id) is True


async def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(catalog.UnknownFlag):
        await service.enabled(session=None, key="files.nothing_like_this", tenant_id=None)  # type: ignore[arg-type]


async def test_warm_reads_make_no_query_and_a_change_is_seen_at_once(session: AsyncSession, settings: Settings) -> None:
    alpha = await admin_of(session, settings)
    await is_on(session, TENANT_FLAG, alpha.tenant_id)
    loads = service.CACHE.loads
    for _ in range(50):
        assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is False
    assert service.CACHE.loads == loads, "a warm read queries nothing"

    await service.set_for_tenant(session=session, principal=alpha, key=TENANT_FLAG, value=True, origin=ORIGIN)
    assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is True


async def test_an_announcement_from_another_process_drops_what_is_kept(session: AsyncSession, settings: Settings) -> None:
    """GIVEN a value kept in this process, changed in the database by another process (here: by hand)
    WHEN the other process's announcement arrives on the event bus
    THEN the next read sees the new value."""
    alpha = await admin_of(session, settings)
    await service.set_for_tenant(session=session, principal=alpha, key=TENANT_FLAG, value=False, origin=ORIGIN)
    assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is False
    where = (TenantFeatureFlag.tenant_id == alpha.tenant_id) & (TenantFeatureFlag.key == TENANT_FLAG)
    await session.execute(update(TenantFeatureFlag).where(where).values(enabled=True))
    assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is False, "kept until told"

    bus = Bus()
    service.listen(bus)
    await bus.publish(service.CHANNEL, "changed")
    assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is True


async def test_a_rolled_back_change_is_forgotten(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    async with sessions() as session:
        alpha = await admin_of(session, settings)
        await session.commit()
    async with sessions() as session:
        await service.set_for_tenant(session=session, principal=alpha, key=TENANT_FLAG, value=True, origin=ORIGIN)
        assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is True  # the transaction reads its own change
        await session.rollback()
    async with sessions() as session:
        assert await is_on(session, TENANT_FLAG, alpha.tenant_id) is False
