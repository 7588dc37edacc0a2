"""Pydantic shapes of the ops API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """The process is up and serving requests."""

    status: Literal["ok"] = "ok"


class CheckResult(BaseModel):
    """The outcome of one readiness check."""

    ok: bool
    latency_ms: float | None = Field(default=None, description="Round-trip time of the check, when it answered.")
    detail: str | None = Field(default=None, description="Why the check failed, in words an operator can act on.")


class Readiness(BaseModel):
    """Whether every dependency the server needs answers; `ready` only when all checks pass."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckResult]


class VersionInfo(BaseModel):
    """What is running: product, version, API version, database engine, start time."""

    name: str = "nubes"
    version: str
    api_version: str
    database: Literal["sqlite", "postgresql"]
    replica: str = Field(description="Which server process answered (a name per process; its log pairs it with host and pid).")
    started_at: datetime
