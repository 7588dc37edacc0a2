"""ops/alerts in the generic suites: a tenant-A rule, target and silence, and bodies that pass validation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from nubes.core.db import utcnow
from nubes.ops.alerts.models import AlertRule, AlertSilence, AlertTarget
from tests.access import TenantA

PUBLIC: frozenset[str] = frozenset()

_RULE = {"name": "Crash loop", "metric": "container_restarts", "reducer": "increase", "comparator": ">=", "threshold": 3}
BODIES: dict[str, dict[str, Any]] = {
    "ops-alerts-rules-create": {**_RULE, "scope": "tenant"},
    "ops-alerts-rules-update": {"threshold": 5},
    "ops-alerts-targets-create": {"name": "On call", "kind": "email", "emails": ["oncall@example.org"], "scope": "tenant"},
    "ops-alerts-silences-create": {"duration_seconds": 3600, "comment": "maintenance", "scope": "tenant"},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """One tenant-A rule, e-mail target and silence."""
    tenant_id = uuid.UUID(tenant_a.ids["tenant_id"])
    target = AlertTarget(tenant_id=tenant_id, name="On call", kind="email", emails=["oncall@example.org"])
    tenant_a.session.add(target)
    await tenant_a.session.flush()
    rule = AlertRule(
        tenant_id=tenant_id, name="Crash loop", metric="container_restarts", matchers={}, reducer="increase",
        window_seconds=600, comparator=">=", threshold=3, for_seconds=0, severity="critical", no_data="ok",
        enabled=True, target_ids=[str(target.id)],
    )  # fmt: skip
    tenant_a.session.add(rule)
    now = utcnow()
    silence = AlertSilence(
        tenant_id=tenant_id, matchers={}, starts_at=now, ends_at=now + timedelta(hours=1), comment="maintenance"
    )
    tenant_a.session.add(silence)
    await tenant_a.session.flush()
    return {"rule_id": str(rule.id), "target_id": str(target.id), "silence_id": str(silence.id)}
