"""`nubes worker` runs the background jobs a web server with NUBES_JOBS=false queues, woken at once through Redis."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import empty_database
from tests.serving import redis_server, run_worker, serve

SHARED = {"NUBES_SECRET_KEY": "one-secret-for-the-server-and-its-worker"}


@pytest.fixture(scope="module")
async def shared_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database the server and the worker share."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("worker-db") / "nubes.db") as url:
        yield url


def log_events(log: Path) -> list[dict[str, object]]:
    """The JSON log lines of a process."""
    events = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def a_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.timeout(300)  # a server and a worker start on a machine the other test workers keep busy
def test_a_web_server_without_jobs_hands_them_to_the_worker(shared_database_url: str, tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis_url:
        shared = SHARED | {"NUBES_REDIS_URL": redis_url}
        with serve(shared_database_url, tmp_path, NUBES_JOBS="false", **shared) as server:
            web_background = [event for event in log_events(server.log) if event.get("event") == "server.background"]
            assert web_background
            assert web_background[0]["jobs"] is False
            with run_worker(shared_database_url, tmp_path, NUBES_LOG_LEVEL="debug", **shared) as worker:
                admin = {"Authorization": f"Bearer {server.admin_token()}"}
                uploaded = httpx.post(
                    f"{server.url}/api/files/upload/raw", params={"name": "teal.png"}, content=a_png(), headers=admin
                )
                assert uploaded.status_code == 201, uploaded.text
                thumbnail = f"{server.url}/api/files/{uploaded.json()['id']}/thumbnail"
                deadline = time.monotonic() + 60
                while (answer := httpx.get(thumbnail, headers=admin)).status_code != 200 and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert answer.status_code == 200, answer.text
                assert answer.headers["content-type"] == "image/webp"
                # Made by the worker because the server's wake reached it through Redis (not by its 30 s poll).
                woken = [event for event in log_events(worker.log) if event.get("event") == "jobs.wake_received"]
                assert {event["worker"] for event in woken} >= {"nubes-thumbnails"}
