"""The tenants table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Tenant(Base):
    """An organization: every owned row of every domain points at one."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | suspended
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped (roles.service.bump_roles_version) in the transaction of every change to the tenant's roles, their
    # permissions, user roles, groups, group members or group roles: a cached role graph is used only while it matches.
    roles_version: Mapped[int] = mapped_column(server_default=text("0"))
