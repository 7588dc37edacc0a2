"""Tables of the service registry: the services (platform-wide), their health history, each tenant's settings for a
service, and who in a tenant may use it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class AppService(Base):
    """A service registered behind the gateway: where it answers, its last good manifest and its health.

    Platform-wide (a super-admin registers it for the install); tenants decide who may use it and set its settings.
    """

    __tablename__ = "app_services"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    base_url: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(100))
    icon: Mapped[str] = mapped_column(Text, default="")  # a path on the service or a bounded data: URI
    description: Mapped[str] = mapped_column(String(1000), default="")
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="unknown")  # up | down | unknown
    status_since: Mapped[datetime | None] = mapped_column(default=None)  # when the status last changed
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    last_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppServiceCheck(Base):
    """One health check of a service: when, whether it answered well, how fast, and what went wrong."""

    __tablename__ = "app_service_checks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_services.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool]
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(String(500), default="")


Index("ix_app_service_checks_service_checked", AppServiceCheck.service_id, AppServiceCheck.checked_at)


class AppServiceSettings(Base):
    """A tenant's settings for a service, checked against the manifest's settings fields (secrets sealed)."""

    __tablename__ = "app_service_settings"
    __table_args__ = (UniqueConstraint("service_id", "tenant_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_services.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppUserPermission(Base):
    """A user of a tenant allowed to use a service."""

    __tablename__ = "app_user_permissions"
    __table_args__ = (UniqueConstraint("service_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_services.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    granted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_app_user_permissions_tenant_service", AppUserPermission.tenant_id, AppUserPermission.service_id)


class AppGroupPermission(Base):
    """A group of a tenant whose members may use a service."""

    __tablename__ = "app_group_permissions"
    __table_args__ = (UniqueConstraint("service_id", "group_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_services.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    granted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_app_group_permissions_tenant_service", AppGroupPermission.tenant_id, AppGroupPermission.service_id)
