"""ops/backups in the generic suites: a backup run (platform-wide; only super-admins reach it) and a settings body."""

from __future__ import annotations

from typing import Any

from nubes.ops.backups.models import BackupRun
from tests.access import TenantA

PUBLIC: frozenset[str] = frozenset()

BODIES: dict[str, dict[str, Any]] = {
    "ops-backups-settings-update": {"schedule": "03:30", "retention": {"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 6}},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """One finished backup run."""
    run = BackupRun(trigger="cli", status="succeeded", snapshot_id="0123abcd", verify_detail="")
    tenant_a.session.add(run)
    await tenant_a.session.flush()
    return {"run_id": str(run.id)}
