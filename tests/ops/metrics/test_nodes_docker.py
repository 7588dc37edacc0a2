"""Nodes' and containers' figures end to end: a real `nubes serve`, a real `nubes agent` on a real Docker Engine; the
agent's heartbeats carry them, the server stores them, the metrics API answers them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compute.test_docker import Api, Site, api, compute_database_url, docker_engine, server, site, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]
__all__ = ["api", "compute_database_url", "docker_engine", "server", "site"]  # the fixtures, imported for this module


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
