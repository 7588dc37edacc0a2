"""`one_of`: a column among many ids, bound as one parameter, gives what `IN (...)` gives, on both databases."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import one_of
from nubes.identity.groups.models import Group
from tests.factories import make_tenant


async def test_one_of_finds_exactly_the_ids_given_however_many(session: AsyncSession) -> None:
    """GIVEN 30 groups WHEN asking for a few of them, none, all, and ids that match nothing (2,000 of them)
    THEN each answer is exactly the groups named (the statement is cached once and bound afresh each time)."""
    tenant = await make_tenant(session)
    groups = [Group(tenant_id=tenant.id, name=f"group {number}") for number in range(30)]
    session.add_all(groups)
    await session.flush()
    ids = [group.id for group in groups]
    strangers = [uuid.uuid4() for _ in range(2000)]

    async def found(chosen: list[uuid.UUID]) -> set[uuid.UUID]:
        return set(await session.scalars(select(Group.id).where(Group.tenant_id == tenant.id, one_of(Group.id, chosen))))

    assert await found(ids[:3]) == set(ids[:3])
    assert await found(ids[10:12]) == set(ids[10:12])
    assert await found([]) == set()
    assert await found(ids) == set(ids)
    assert await found([*strangers, ids[7]]) == {ids[7]}
    assert await found(strangers) == set()
