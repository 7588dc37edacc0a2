"""Platform settings round-trip JSON values through the database on each engine."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from nubes.ops import service


async def test_missing_setting_gives_the_default(session: AsyncSession) -> None:
    assert await service.get_setting(session=session, key="identity.registration", default=False) is False


async def test_set_then_replace_keeps_one_row(session: AsyncSession) -> None:
    await service.set_setting(session=session, key="identity.registration", value={"enabled": True, "domains": ["a.test"]})
    await service.set_setting(session=session, key="identity.registration", value={"enabled": False, "domains": []})
    await service.set_setting(session=session, key="files.max_versions", value=20)
    assert await service.get_setting(session=session, key="identity.registration") == {"enabled": False, "domains": []}
    assert await service.list_settings(session=session) == {
        "files.max_versions": 20,
        "identity.registration": {"enabled": False, "domains": []},
    }


async def test_each_test_starts_clean(session: AsyncSession) -> None:
    """The rolled-back transaction per test means the previous test's rows are gone."""
    assert await service.list_settings(session=session) == {}
