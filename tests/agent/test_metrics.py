"""The agent's own Prometheus endpoint (`nubes agent --metrics-address`): its figures parse with prometheus-client's
parser, labels stay bounded, and it is never open to the network without a token. The end-to-end scrape of a real
agent is in tests/ops/metrics/test_nodes_docker.py."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from nubes.agent import metrics
from nubes.agent.metrics import AgentMetrics, MetricsAddressError
from nubes.compute.agents import protocol
from tests.serving import free_port


def _heartbeat(*mounts: str) -> protocol.Heartbeat:
    disks = [protocol.DiskUse(mount=mount, used_bytes=10, total_bytes=100) for mount in mounts]
    host = protocol.HostStats(
        cpu_percent=12.5, memory_used_bytes=2**30, memory_total_bytes=2**32, load1=0.5,
        network_rx_bytes=0, network_tx_bytes=0, disks=disks,
    )  # fmt: skip
    usage = [protocol.ContainerUsage(container_id=uuid.uuid4(), cpu_percent=1.0, memory_bytes=1) for _ in range(3)]
    return protocol.Heartbeat(host=host, containers=usage)


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(text)
    }


def test_figures_follow_what_the_agent_did() -> None:
    """Heartbeats, commands and the host figures show in the exposition; a mount gone from the host is gone from it."""
    figures = AgentMetrics()
    figures.heartbeat(_heartbeat("/", "/srv"))
    figures.heartbeat(_heartbeat("/"))
    figures.command("start", ok=True, started=time.monotonic())
    figures.command("start", ok=False, started=time.monotonic())
    figures.command("create", ok=True, started=time.monotonic() - 3)
    found = _families(figures.exposition().decode())
    assert found["nubes_agent_heartbeats"] == [({}, 2.0)]
    assert found["nubes_agent_containers_running"] == [({}, 3.0)]
    assert found["nubes_agent_host_cpu_percent"] == [({}, 12.5)]
    assert found["nubes_agent_host_disk_total_bytes"] == [({"mount": "/"}, 100.0)]
    commands = {(labels["action"], labels["outcome"]): value for labels, value in found["nubes_agent_commands"]}
    assert commands == {("start", "ok"): 1.0, ("start", "failed"): 1.0, ("create", "ok"): 1.0}
    slow = [value for labels, value in found["nubes_agent_command_seconds"] if labels.get("action") == "create"]
    assert slow, "the create's duration is in the histogram"
    [(info, _one)] = found["nubes_agent_info"]
    assert info["protocol"] == str(protocol.PROTOCOL_VERSION)
    assert found["nubes_agent_connected"] == [({}, 0.0)]


@pytest.mark.parametrize(
    ("address", "token", "reason"),
    [
        ("0.0.0.0:9108", None, "NUBES_AGENT_METRICS_TOKEN"),
        ("[::]:9108", None, "NUBES_AGENT_METRICS_TOKEN"),
        ("10.1.2.3:9108", "", "NUBES_AGENT_METRICS_TOKEN"),
        ("9108", None, "HOST:PORT"),
        ("127.0.0.1:0", None, "HOST:PORT"),
        ("127.0.0.1:70000", None, "HOST:PORT"),
        ("metrics.example.org:9108", "t", "IP address"),
    ],
)
def test_unusable_or_open_addresses_are_refused_with_what_to_do(address: str, token: str | None, reason: str) -> None:
    with pytest.raises(MetricsAddressError, match=reason):
        metrics.parse_address(address, token)


def test_loopback_needs_no_token_and_a_network_address_with_one_is_fine() -> None:
    assert metrics.parse_address("127.0.0.1:9108", None) == ("127.0.0.1", 9108)
    assert metrics.parse_address("[::1]:9108", None) == ("::1", 9108)
    assert metrics.parse_address("0.0.0.0:9108", "secret") == ("0.0.0.0", 9108)  # noqa: S104 - the case under test


async def test_the_endpoint_wants_the_token_when_one_is_set() -> None:
    """Over real HTTP: no token or a wrong one is a 401, the right one the figures; nothing but /metrics answers."""
    figures = AgentMetrics()
    figures.heartbeat(_heartbeat("/"))
    address = f"127.0.0.1:{free_port()}"
    stop = await metrics.serve(figures, address, "s3cret-token")
    try:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            assert (await http.get("/metrics")).status_code == 401
            wrong = await http.get("/metrics", headers={b"Authorization": "Bearer nope-\u00e9".encode()})
            assert wrong.status_code == 401
            assert "s3cret" not in wrong.text
            scraped = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain")
            assert _families(scraped.text)["nubes_agent_heartbeats"] == [({}, 1.0)]
            assert (await http.get("/", headers={"Authorization": "Bearer s3cret-token"})).status_code == 404
    finally:
        await stop()
