"""Rules of the ops domain: readiness checks and platform settings."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import Database
from nubes.core.events import Bus
from nubes.ops.models import SystemSetting
from nubes.ops.schemas import CheckResult, Readiness

log = structlog.get_logger("nubes.ops")


async def check_database(*, database: Database, within: float = 2.0) -> CheckResult:
    """Round-trip the database; a failure says which engine and why, never the credentials."""
    try:
        latency = await database.ping(within=within)
    except TimeoutError:
        return CheckResult(ok=False, detail=f"{database.engine_name} did not answer within {within:g} s")
    except Exception as exc:  # any driver error means "not ready"; the reason goes to the log and the operator
        log.warning("ready.database_failed", error=type(exc).__name__)
        return CheckResult(ok=False, detail=f"{database.engine_name} is unreachable ({type(exc).__name__})")
    return CheckResult(ok=True, latency_ms=round(latency, 2))


async def check_redis(*, bus: Bus, within: float = 2.0) -> CheckResult | None:
    """Round-trip Redis when the install shares one (None without): requests are still served while it is away, but
    what crosses replicas (cache drops, wakes, agents on other replicas, consoles) waits for it to return."""
    try:
        latency = await bus.ping(within=within)
    except TimeoutError:
        return CheckResult(ok=False, detail=f"Redis did not answer within {within:g} s; replicas cannot reach each other")
    except Exception as exc:
        log.warning("ready.redis_failed", error=type(exc).__name__)
        return CheckResult(ok=False, detail=f"Redis is unreachable ({type(exc).__name__}); replicas cannot reach each other")
    return None if latency is None else CheckResult(ok=True, latency_ms=round(latency, 2))


async def readiness(*, database: Database, bus: Bus) -> Readiness:
    """Run every readiness check: the database, and Redis when the install shares one."""
    checks = {"database": await check_database(database=database)}
    redis = await check_redis(bus=bus)
    if redis is not None:
        checks["redis"] = redis
    status = "ready" if all(check.ok for check in checks.values()) else "unavailable"
    return Readiness(status=status, checks=checks)


async def get_setting(*, session: AsyncSession, key: str, default: Any = None) -> Any:
    """The value stored under `key`, or `default`."""
    row = await session.get(SystemSetting, key)
    return default if row is None else row.value


async def set_setting(*, session: AsyncSession, key: str, value: Any) -> None:
    """Store `value` under `key`, replacing what was there."""
    row = await session.get(SystemSetting, key)
    if row is None:
        session.add(SystemSetting(key=key, value=value))
    else:
        row.value = value
    await session.flush()


async def list_settings(*, session: AsyncSession) -> dict[str, Any]:
    """Every platform setting, by key."""
    rows = await session.scalars(select(SystemSetting).order_by(SystemSetting.key))
    return {row.key: row.value for row in rows}
