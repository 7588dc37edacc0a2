"""Tables of ops/flags: the values admins chose for feature flags, per install and per tenant (the flags are in code)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class InstallFeatureFlag(Base):
    """A flag's value for the whole install, chosen by a platform administrator (a tenant's own value wins)."""

    __tablename__ = "install_feature_flags"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantFeatureFlag(Base):
    """A flag's value for one tenant, chosen by its admins."""

    __tablename__ = "tenant_feature_flags"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
