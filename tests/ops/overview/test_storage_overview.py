"""The monitoring overview's API on both databases: storage against quotas, and the dashboard's snapshot.

Who may see what: a super-admin sees every tenant, a tenant admin only their own tenant, a member nothing (403).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.compute.clusters.models import Cluster
from nubes.compute.containers.models import Container
from nubes.compute.eggs.models import Egg, EggCategory
from nubes.compute.nodes.models import Node
from nubes.config import Settings
from nubes.files.quota import service as quota_service
from nubes.identity.tenants.models import Tenant
from nubes.ops.metrics.recorder import Recorder
from tests.factories import SignedIn, login, make_tenant, make_user


async def upload(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes) -> None:
    response = await client.post("/api/files/upload", files={"file": (name, data, "text/plain")}, headers=who.headers)
    assert response.status_code == 201, response.text


def tenant_named(body: dict[str, Any], slug: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [tenant for tenant in body["tenants"] if tenant["slug"] == slug]
    assert len(found) == 1, body
    return found[0]


@pytest.fixture
async def tenants(session: AsyncSession) -> tuple[Tenant, Tenant]:
    return await make_tenant(session), await make_tenant(session)


async def test_tenant_admin_sees_their_tenant_and_its_largest_users(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenants: tuple[Tenant, Tenant]
) -> None:
    """GIVEN two users of tenant A who stored files, one more than the other, and a user of tenant B
    WHEN tenant A's admin asks for the storage overview
    THEN only tenant A is listed, with its bytes, its file count and its users largest first; B's numbers never appear."""
    tenant_a, tenant_b = tenants
    admin = await login(client, await make_user(session, settings, tenant_a, roles=("admin",)))
    big = await login(client, await make_user(session, settings, tenant_a, username="big-user"))
    small = await login(client, await make_user(session, settings, tenant_a, username="small-user"))
    other = await login(client, await make_user(session, settings, tenant_b, username="other-user"))
    await upload(client, big, "one.txt", b"x" * 3000)
    await upload(client, big, "two.txt", b"y" * 2000)
    await upload(client, small, "small.txt", b"z" * 100)
    await upload(client, other, "secret.txt", b"s" * 7777)
    await quota_service.set_user_quota(session=session, tenant_id=tenant_a.id, user_id=small.user.id, quota_bytes=1000)

    response = await client.get("/api/ops/storage", headers=admin.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["scope"], body["tenant_count"]) == ("tenant", 1)
    assert [tenant["slug"] for tenant in body["tenants"]] == [tenant_a.slug]
    mine = body["tenants"][0]
    assert (mine["used_bytes"], mine["file_count"]) == (5100, 3)
    users = [(user["name"], user["used_bytes"], user["quota_bytes"]) for user in mine["largest_users"]]
    assert users[:2] == [("big-user", 5000, settings.user_quota_bytes or None), ("small-user", 100, 1000)]
    assert "other-user" not in response.text
    assert str(tenant_b.id) not in response.text


async def test_super_admin_sees_every_tenant(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenants: tuple[Tenant, Tenant]
) -> None:
    tenant_a, tenant_b = tenants
    root = await login(client, await make_user(session, settings, tenant_a, roles=("member",), superadmin=True))
    await upload(client, await login(client, await make_user(session, settings, tenant_b, username="b-user")), "b.txt", b"b" * 42)
    await quota_service.set_tenant_quota(session=session, tenant_id=tenant_b.id, quota_bytes=10_000)

    response = await client.get("/api/ops/storage", headers=root.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "platform"
    b = tenant_named(body, tenant_b.slug)
    assert (b["used_bytes"], b["quota_bytes"], b["file_count"]) == (42, 10_000, 1)
    assert [user["name"] for user in b["largest_users"]] == ["b-user"]
    tenant_named(body, tenant_a.slug)


async def test_member_may_not_see_monitoring(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenants: tuple[Tenant, Tenant]
) -> None:
    member = await login(client, await make_user(session, settings, tenants[0]))
    for path in ("/api/ops/storage", "/api/ops/overview"):
        response = await client.get(path, headers=member.headers)
        assert response.status_code == 403, response.text


async def test_overview_lists_nodes_only_for_a_super_admin(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenants: tuple[Tenant, Tenant]
) -> None:
    tenant_a, _ = tenants
    admin = await login(client, await make_user(session, settings, tenant_a, roles=("admin",)))
    root = await login(client, await make_user(session, settings, tenant_a, superadmin=True))

    mine = await client.get("/api/ops/overview", headers=admin.headers)
    platform = await client.get("/api/ops/overview", headers=root.headers)

    assert mine.status_code == 200, mine.text
    assert platform.status_code == 200, platform.text
    assert (mine.json()["scope"], mine.json()["nodes"], mine.json()["tenant_name"]) == ("tenant", [], tenant_a.name)
    assert platform.json()["scope"] == "platform"


async def running_container(session: AsyncSession, tenant: Tenant, name: str) -> Container:
    """A running container of `tenant` on a node of its own (rows only: no agent needed to report its metrics)."""
    cluster = Cluster(name=f"cluster-{name}")
    category = EggCategory(name=f"category-{name}")
    session.add_all([cluster, category])
    await session.flush()
    node = Node(cluster_id=cluster.id, name=f"node-{name}", cpu=100, memory_mb=1024, disk_mb=1024)
    egg = Egg(name=f"egg-{name}", document={}, category_id=category.id)
    session.add_all([node, egg])
    await session.flush()
    container = Container(
        tenant_id=tenant.id, name=name, egg_id=egg.id, node_id=node.id, image="x",
        cpu=10, memory_mb=64, disk_mb=64, startup="true", state="running",
    )  # fmt: skip
    session.add(container)
    await session.flush()
    return container


async def test_top_containers_are_the_callers_own(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenants: tuple[Tenant, Tenant],
) -> None:
    """GIVEN a container in tenant A and a busier one in tenant B, both reporting CPU and memory
    WHEN tenant A's admin and a super-admin read the dashboard's snapshot
    THEN A's admin sees only A's container; the super-admin sees both, the busiest first."""
    tenant_a, tenant_b = tenants
    mine = await running_container(session, tenant_a, "a-web")
    theirs = await running_container(session, tenant_b, "b-db")
    recorder = Recorder()
    for container, tenant, cpu, memory in ((mine, tenant_a, 12.5, 2e8), (theirs, tenant_b, 80.0, 9e8)):
        labels = {"container": str(container.id), "node": str(container.node_id), "tenant": str(tenant.id)}
        recorder.record("container_cpu_percent", cpu, labels)
        recorder.record("container_memory_bytes", memory, labels)
    await recorder.flush(sessions)
    admin = await login(client, await make_user(session, settings, tenant_a, roles=("admin",)))
    root = await login(client, await make_user(session, settings, tenant_a, superadmin=True))

    seen = (await client.get("/api/ops/overview", headers=admin.headers)).json()
    everything = (await client.get("/api/ops/overview", headers=root.headers)).json()

    assert [(item["name"], item["cpu_percent"], item["memory_bytes"]) for item in seen["top_by_cpu"]] == [("a-web", 12.5, 2e8)]
    assert [item["name"] for item in seen["top_by_memory"]] == ["a-web"]
    assert str(theirs.id) not in str(seen)
    assert [item["name"] for item in everything["top_by_cpu"]][:2] == ["b-db", "a-web"]
