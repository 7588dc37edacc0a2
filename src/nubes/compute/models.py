"""Tables of the compute domain: clusters, nodes and their allocations, eggs, containers, jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Cluster(Base):
    """A group of nodes a container can be placed on (a region, a rack, a hardware class)."""

    __tablename__ = "clusters"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Node(Base):
    """A Docker host running `nubes agent`; platform infrastructure, not owned by a tenant."""

    __tablename__ = "nodes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    cluster_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    cpu: Mapped[int] = mapped_column(Integer)  # percent of one core: 200 = two cores
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_mb: Mapped[int] = mapped_column(Integer)
    overallocate_percent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | online | offline | revoked
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    agent_version: Mapped[str] = mapped_column(String(50), default="")
    registration_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    registration_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Allocation(Base):
    """One ip:port of a node that a container's port binds to; free while `container_id` is empty."""

    __tablename__ = "allocations"
    __table_args__ = (UniqueConstraint("node_id", "ip", "port"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), index=True)
    ip: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(Integer)
    container_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("containers.id", ondelete="SET NULL"), index=True, default=None
    )


class EggCategory(Base):
    """A shelf of eggs (game servers, databases, bots), like Pterodactyl's nests."""

    __tablename__ = "egg_categories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")


class Egg(Base):
    """A container template in the Pterodactyl egg format; `document` is the imported file, unchanged."""

    __tablename__ = "eggs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("egg_categories.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Container(Base):
    """A tenant's container: made from an egg, placed on a node, with limits and a lifecycle state."""

    __tablename__ = "containers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(100))
    egg_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("eggs.id", ondelete="RESTRICT"), index=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    image: Mapped[str] = mapped_column(String(500))
    cpu: Mapped[int] = mapped_column(Integer)  # percent of one core
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_mb: Mapped[int] = mapped_column(Integer)
    pids: Mapped[int] = mapped_column(Integer, default=256)
    environment: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    startup: Mapped[str] = mapped_column(Text)  # rendered: variables substituted
    # installing | install_failed | stopped | starting | running | stopping | crashed | deleting
    state: Mapped[str] = mapped_column(String(20), default="installing")
    desired_state: Mapped[str] = mapped_column(String(20), default="stopped")  # stopped | running | deleted
    state_reason: Mapped[str] = mapped_column(String(500), default="")
    # Auto-restart: `never` or `on-crash`; at most `restart_max_retries` restarts within `restart_window_seconds`,
    # the n-th after `restart_backoff_seconds * 2^(n-1)` seconds. Past that the container stays crashed.
    restart_policy: Mapped[str] = mapped_column(String(20), default="never", server_default="never")
    restart_max_retries: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    restart_window_seconds: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    restart_backoff_seconds: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Job(Base):
    """One operation on a container: who asked for what, when, and how it ended."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    actor_name: Mapped[str] = mapped_column(String(150), default="")
    action: Mapped[str] = mapped_column(String(20))  # create | start | stop | restart | kill | delete
    target_type: Mapped[str] = mapped_column(String(20), default="container")
    container_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("containers.id", ondelete="SET NULL"), default=None)
    target_id: Mapped[str] = mapped_column(String(100))  # kept when the container is gone
    node_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nodes.id", ondelete="SET NULL"), index=True, default=None)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | sent | succeeded | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(default=None)  # sent no earlier (an auto-restart's backoff)
    output: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


Index("ix_jobs_tenant_time", Job.tenant_id, Job.created_at)
Index("ix_jobs_node_status", Job.node_id, Job.status)
