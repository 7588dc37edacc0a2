"""Nodes' and containers' figures and the alerts on them, end to end: a real `nubes serve`, a real `nubes agent` on a
real Docker Engine; the agent's heartbeats carry the figures, the server stores them, the metrics API answers them, and
the server's own evaluation loop fires and resolves alerts on them (a real volume filled, a real agent stopped, a real
container crashing)."""

from __future__ import annotations

import contextlib
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.compute.eggs import egg
from tests.compute.test_docker import Api, Site, api, compute_database_url, docker_engine, site, wait_for
from tests.serving import Server, free_port, serve

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]
__all__ = ["api", "compute_database_url", "docker_engine", "site"]  # the fixtures, imported for this module


@pytest.fixture(scope="module")
def server(docker_engine: None, compute_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `nubes serve` that collects and evaluates every 2 s (the defaults are 15 s and 30 s)."""
    del docker_engine
    data_dir = tmp_path_factory.mktemp("ops-serve")
    with serve(compute_database_url, data_dir, NUBES_METRICS_INTERVAL="2", NUBES_ALERTS_INTERVAL="2") as running:
        yield running


def _latest(api: Api, name: str, *labels: str) -> list[dict[str, Any]] | None:
    answer = api.call("GET", "/api/ops/metrics/latest", 200, params={"name": name, "label": list(labels)})
    values: list[dict[str, Any]] = answer["values"]
    return values or None


def test_node_and_container_figures_arrive_with_heartbeats(api: Api, site: Site) -> None:
    """GIVEN a running container on a node WHEN its agent's heartbeats arrive THEN the node's host figures (source
    node) and the container's CPU and memory, labelled with node and tenant, are stored; node_up says 1."""
    body = {
        "name": "busy",
        "egg_id": site.egg_id,
        "cluster_id": site.cluster_id,
        "environment": {"GREETING": "hi"},
        "limits": {"cpu": 50, "memory_mb": 96, "disk_mb": 100, "pids": 64},
        "start": True,
    }
    container_id = api.call("POST", "/api/containers", 202, json=body)["container"]["id"]
    wait_for("the container to run", lambda: api.call("GET", f"/api/containers/{container_id}", 200)["state"] == "running")
    memory = wait_for(
        "the container's memory", lambda: _latest(api, "container_memory_bytes", f"container:{container_id}"), within=120
    )
    assert memory[0]["labels"]["node"] == site.node_id
    assert memory[0]["labels"]["tenant"]
    assert memory[0]["value"] > 0
    cpu = wait_for("the node's CPU", lambda: _latest(api, "host_cpu_percent", f"host:{site.node_id}", "source:node"))
    assert 0 <= cpu[0]["value"] <= 100
    disks = wait_for("the node's disks", lambda: _latest(api, "host_disk_total_bytes", f"host:{site.node_id}"))
    assert all(value["value"] > 0 for value in disks)


def _scrape(url: str, token: str) -> dict[str, list[tuple[dict[str, str], float]]] | None:
    try:
        answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    except httpx.TransportError:
        return None
    if answer.status_code != 200:
        return None
    families = {f.name: [(s.labels, s.value) for s in f.samples] for f in text_string_to_metric_families(answer.text)}
    return families if families.get("nubes_agent_heartbeats", [({}, 0)])[0][1] >= 1 else None


def test_the_agent_serves_its_own_figures_to_prometheus(api: Api, site: Site) -> None:
    """GIVEN the agent restarted with --metrics-address (all interfaces, so with a token) WHEN it has connected and
    sent a heartbeat THEN its /metrics parses, says it is connected and counts its commands; without the token: 401."""
    port, token = free_port(), secrets.token_urlsafe(16)
    site.agent.stop()
    site.agent.env_extra = {"NUBES_AGENT_METRICS_ADDRESS": f"0.0.0.0:{port}", "NUBES_AGENT_METRICS_TOKEN": token}
    site.agent.start()
    url = f"http://127.0.0.1:{port}/metrics"
    container_id = api.call("POST", "/api/containers", 202, json={
        "name": "scraped", "egg_id": site.egg_id, "cluster_id": site.cluster_id, "environment": {"GREETING": "hi"},
        "limits": {"cpu": 50, "memory_mb": 96, "disk_mb": 100, "pids": 64}, "start": True,
    })["container"]["id"]  # fmt: skip
    wait_for("the container to run", lambda: api.call("GET", f"/api/containers/{container_id}", 200)["state"] == "running")
    found = wait_for("a heartbeat in the agent's figures", lambda: _scrape(url, token), within=60)
    assert found["nubes_agent_connected"] == [({}, 1.0)]
    assert found["nubes_agent_connections"][0][1] >= 1
    commands = {labels["action"]: value for labels, value in found["nubes_agent_commands"] if labels["outcome"] == "ok"}
    assert commands.get("create", 0) >= 1
    assert commands.get("start", 0) >= 1
    assert not any("container" in labels for samples in found.values() for labels, _ in samples)
    assert httpx.get(url, timeout=5).status_code == 401


# --- alerts on real figures ----------------------------------------------------------------------------


def _rule(api: Api, template: str, **changes: Any) -> str:
    """A rule made from one of the built-in templates, with changes (shorter durations, matchers)."""
    templates = {item["key"]: item["rule"] for item in api.call("GET", "/api/ops/alerts/templates", 200)}
    rule_id: str = api.call("POST", "/api/ops/alerts/rules", 201, json={**templates[template], **changes})["id"]
    return rule_id


def _firing(api: Api, rule_id: str) -> dict[str, Any] | None:
    instances: list[dict[str, Any]] = api.call("GET", "/api/ops/alerts/instances", 200)
    return next((item for item in instances if item["rule_id"] == rule_id and item["state"] == "firing"), None)


def _history(api: Api, rule_id: str) -> list[str]:
    events = api.call("GET", "/api/ops/alerts/events", 200, params={"rule_id": rule_id})["items"]
    return [event["kind"] for event in reversed(events)]


def _resolved(api: Api, rule_id: str) -> list[str] | None:
    kinds = _history(api, rule_id)
    return kinds if kinds and kinds[-1] == "resolved" else None


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MiB ext4 filesystem, loop-mounted (the agent reports every real mount of its host)."""
    image, mount = tmp_path / "volume.img", tmp_path / "volume"
    mount.mkdir()
    subprocess.run(["truncate", "-s", "24M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_filled_volume_fires_disk_full_and_emptying_it_resolves(api: Api, site: Site, volume: Path) -> None:
    """GIVEN the disk-full template (> 90 %) on one real volume of a node WHEN a file fills the volume past 90 % THEN
    the server's evaluation fires the alert with the measured ratio; WHEN the file is deleted THEN it resolves."""
    matchers = {"host": site.node_id, "source": "node", "mount": str(volume)}
    rule_id = _rule(api, "disk-full", matchers=matchers, for_seconds=0)
    wait_for("the volume to be reported", lambda: api.call(
        "GET", "/api/ops/metrics/latest", 200, params={"name": "host_disk_total_bytes", "label": [f"mount:{volume}"]}
    )["values"])  # fmt: skip
    filler = volume / "filler.bin"
    # Unbuffered, so the close has nothing left to write; ENOSPC ends the fill: the volume is as full as it gets.
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        for _ in range(24):
            out.write(b"\0" * 2**20)
    firing = wait_for("disk-full to fire", lambda: _firing(api, rule_id), within=120)
    assert firing["labels"]["mount"] == str(volume)
    assert firing["value"] > 0.9
    filler.unlink()
    assert wait_for("disk-full to resolve", lambda: _resolved(api, rule_id), within=120) == ["fired", "resolved"]


def test_a_stopped_agent_fires_node_offline_and_its_return_resolves_it(api: Api, site: Site) -> None:
    """GIVEN the node-offline template on a node WHEN its agent process is stopped THEN the alert fires; WHEN the agent
    comes back THEN it resolves, and the history holds exactly one of each."""
    rule_id = _rule(api, "node-offline", matchers={"node": site.node_id}, for_seconds=4)
    site.agent.kill(signal.SIGKILL)
    firing = wait_for("node-offline to fire", lambda: _firing(api, rule_id), within=120)
    assert firing["labels"] == {"node": site.node_id}
    assert firing["value"] == 0
    site.agent.start()
    assert wait_for("node-offline to resolve", lambda: _resolved(api, rule_id), within=120) == ["fired", "resolved"]


def test_a_crash_looping_container_fires_crash_loop(api: Api, site: Site) -> None:
    """GIVEN the crash-loop template (3 restarts within 10 minutes) WHEN a container crashes again and again under an
    on-crash policy THEN container_restarts counts its auto-restarts and the alert fires for that container."""
    rule_id = _rule(api, "crash-loop")
    crashing = egg(name="Crash loop alert", startup="echo dying; sleep 1; exit 7")
    egg_id = api.call("POST", "/api/eggs/import", 201, json=crashing)["id"]
    body = {
        "name": "looping",
        "egg_id": egg_id,
        "cluster_id": site.cluster_id,
        "environment": {},
        "limits": {"cpu": 50, "memory_mb": 96, "disk_mb": 100, "pids": 64},
        "restart": {"mode": "on-crash", "max_retries": 3, "window_seconds": 600, "backoff_seconds": 1},
        "start": True,
    }
    container_id = api.call("POST", "/api/containers", 202, json=body)["container"]["id"]
    firing = wait_for("crash-loop to fire", lambda: _firing(api, rule_id), within=180)
    assert firing["labels"]["container"] == container_id
    assert firing["labels"]["node"] == site.node_id
    assert firing["value"] >= 3
