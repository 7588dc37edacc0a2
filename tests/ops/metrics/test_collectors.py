"""What feeds the recorder: this host's figures, the nodes' heartbeats, and the install-wide figures."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.compute.agents import protocol
from nubes.compute.clusters.models import Cluster
from nubes.compute.containers.models import Container
from nubes.compute.eggs.models import Egg, EggCategory
from nubes.compute.nodes.models import Node
from nubes.config import Settings
from nubes.core import host
from nubes.ops.metrics.collectors import HostFigures, InstallFigures, NodeFigures
from nubes.ops.metrics.recorder import Recorder
from tests.factories import make_tenant, make_user


def _by_name(recorder: Recorder) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for sample in recorder.take():
        found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def test_this_hosts_figures_are_labelled_with_the_replica() -> None:
    figures = HostFigures(host="replica-a")
    host.start_cpu_measure()
    first = {name for name, *_ in figures.samples(host.read())}
    assert {"host_memory_used_bytes", "host_memory_total_bytes", "host_load1"} <= first
    assert not first & {"host_network_rx_bytes", "host_cpu_percent"}  # measured between two readings
    second = figures.samples(host.read())
    assert {"host_network_rx_bytes", "host_network_tx_bytes", "host_cpu_percent"} <= {name for name, *_ in second}
    assert all(labels["host"] == "replica-a" and labels["source"] == "replica" for _, _, labels, _ in second)


def test_heartbeats_carry_the_nodes_figures() -> None:
    """GIVEN two heartbeats of a node with figures (and one without) WHEN heard THEN host_* of source=node, the
    network as what was sent since the previous heartbeat."""
    recorder = Recorder()
    nodes = NodeFigures(recorder)
    node_id = uuid.uuid4()
    stats = protocol.HostStats(
        cpu_percent=12.5,
        memory_used_bytes=100,
        memory_total_bytes=1000,
        load1=0.5,
        network_rx_bytes=1000,
        network_tx_bytes=50,
        disks=[protocol.DiskUse(mount="/", used_bytes=10, total_bytes=20)],
    )
    wire = protocol.Heartbeat(host=stats).model_dump_json()
    heartbeat = protocol.agent_message.validate_json(wire)
    assert isinstance(heartbeat, protocol.Heartbeat)
    nodes.heard(node_id, heartbeat)
    nodes.heard(node_id, protocol.Heartbeat())
    nodes.heard(node_id, protocol.Heartbeat(host=stats.model_copy(update={"network_rx_bytes": 1600, "cpu_percent": 30.0})))
    found = _by_name(recorder)
    labels = {"host": str(node_id), "source": "node"}
    assert found["host_cpu_percent"] == [(labels, 30.0)]
    assert found["host_disk_total_bytes"] == [({**labels, "mount": "/"}, 20.0)]
    assert found["host_network_rx_bytes"] == [(labels, 600.0)]


async def test_install_figures_count_failed_sign_ins_per_tenant(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN two failed sign-ins of a tenant's user WHEN the install's figures are gathered THEN signin_failures
    counts 2 for that tenant; storage, queues and nodes are there too."""
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant)
    await session.commit()
    for _ in range(2):
        response = await client.post("/api/auth/login", json={"username": user.username, "password": "wrong-Password-1"})
        assert response.status_code == 401
    recorder = Recorder()
    await InstallFigures(recorder).gather(session)
    found = _by_name(recorder)
    assert ({"tenant": str(tenant.id)}, 2.0) in found["signin_failures"]
    assert ({"tenant": str(tenant.id)}, 0.0) in found["storage_used_bytes"]
    assert {labels["queue"] for labels, _ in found["jobs_queued"]} == {"mail", "containers"}
    again = Recorder()
    await InstallFigures(again).gather(session)
    assert ({"tenant": str(tenant.id)}, 2.0) in _by_name(again)["signin_failures"]  # a new gatherer looks back a minute


async def test_heartbeats_carry_container_use_labelled_with_tenant(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """GIVEN a heartbeat with a known container's use and an unknown one's WHEN noted THEN the known one is stored
    with its container, node and tenant labels; the unknown one (deleted meanwhile) is left out."""
    tenant = await make_tenant(session)
    cluster = Cluster(name=f"c-{uuid.uuid4().hex[:6]}")
    category = EggCategory(name=f"e-{uuid.uuid4().hex[:6]}")
    session.add_all([cluster, category])
    await session.flush()
    node = Node(cluster_id=cluster.id, name=f"n-{uuid.uuid4().hex[:6]}", cpu=100, memory_mb=1024, disk_mb=1024)
    egg = Egg(name="egg", document={}, category_id=category.id)
    session.add_all([node, egg])
    await session.flush()
    container = Container(
        tenant_id=tenant.id, name="c", egg_id=egg.id, node_id=node.id, image="x",
        cpu=10, memory_mb=64, disk_mb=64, startup="true", state="running",
    )  # fmt: skip
    session.add(container)
    await session.commit()
    recorder = Recorder()
    nodes = NodeFigures(recorder)
    nodes.heard(
        node.id,
        protocol.Heartbeat(
            containers=[
                protocol.ContainerUsage(container_id=container.id, cpu_percent=42.0, memory_bytes=2048),
                protocol.ContainerUsage(container_id=uuid.uuid4(), cpu_percent=1.0, memory_bytes=1),
            ]
        ),
    )
    await nodes.note_containers(sessions)
    found = _by_name(recorder)
    labels = {"container": str(container.id), "node": str(node.id), "tenant": str(tenant.id)}
    assert found["container_cpu_percent"] == [(labels, 42.0)]
    assert found["container_memory_bytes"] == [(labels, 2048.0)]
    await nodes.note_containers(sessions)
    assert recorder.take() == []  # nothing heard since
