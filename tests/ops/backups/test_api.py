"""The backups API: super-admins only; settings stored without secrets; a backup refused until configured."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.ops import service as ops_service
from nubes.ops.backups import service
from nubes.ops.backups.models import BackupRun
from tests.factories import login, make_tenant, make_user


async def test_only_super_admins_reach_backups(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> None:
    """GIVEN a tenant owner (not a super-admin) WHEN they list backups or start one THEN 403."""
    tenant = await make_tenant(session)
    owner = await make_user(session, settings, tenant, roles=("owner",))
    await session.commit()
    signed = await login(client, owner)
    assert (await client.get("/api/ops/backups", headers=signed.headers)).status_code == 403
    assert (await client.post("/api/ops/backups", headers=signed.headers)).status_code == 403
    assert (await client.get("/api/ops/backups/settings", headers=signed.headers)).status_code == 403


async def test_settings_round_trip_and_no_backup_unconfigured(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN a super-admin on a server without a repository
    WHEN they set the schedule and retention, then ask for a backup
    THEN the settings come back as stored, and the backup is refused with a problem saying what to configure."""
    tenant = await make_tenant(session)
    admin = await make_user(session, settings, tenant, superadmin=True)
    session.add(BackupRun(trigger="cli", status="succeeded", snapshot_id="0123abcd", verified=True, verify_detail="ok"))
    await session.commit()
    signed = await login(client, admin)
    body = {"schedule": "02:15", "retention": {"keep_daily": 3, "keep_weekly": 2, "keep_monthly": 1}}
    changed = await client.put("/api/ops/backups/settings", json=body, headers=signed.headers)
    assert changed.status_code == 200, changed.text
    shown = (await client.get("/api/ops/backups/settings", headers=signed.headers)).json()
    assert shown["schedule"] == "02:15"
    assert shown["retention"] == body["retention"]
    assert shown["configured"] is False
    assert "password" not in {key for key in shown if key != "password_file_set"}
    bad = await client.put("/api/ops/backups/settings", json={**body, "schedule": "25:00"}, headers=signed.headers)
    assert bad.status_code == 422
    refused = await client.post("/api/ops/backups", headers=signed.headers)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("backups-not-configured")
    assert "NUBES_BACKUP_REPOSITORY" in refused.json()["detail"]
    listed = (await client.get("/api/ops/backups", headers=signed.headers)).json()["items"]
    assert [run["snapshot_id"] for run in listed] == ["0123abcd"]
    one = await client.get(f"/api/ops/backups/{listed[0]['id']}", headers=signed.headers)
    assert one.status_code == 200
    assert one.json()["verified"] is True


async def test_schedule_is_due_once_a_day_after_its_time(session: AsyncSession, settings: Settings) -> None:
    """GIVEN a daily schedule at 02:15 UTC
    THEN it is not due before 02:15, due after, and no longer due once a scheduled run was made that day."""
    await ops_service.set_setting(session=session, key=service.SCHEDULE_KEY, value="02:15")
    before = datetime(2030, 1, 2, 2, 14, tzinfo=UTC)
    after = datetime(2030, 1, 2, 2, 16, tzinfo=UTC)
    assert not await service.due_by_schedule(session=session, settings=settings, now=before)
    assert await service.due_by_schedule(session=session, settings=settings, now=after)
    session.add(BackupRun(trigger="schedule", status="succeeded", created_at=after, verify_detail=""))
    await session.flush()
    assert not await service.due_by_schedule(session=session, settings=settings, now=after)
