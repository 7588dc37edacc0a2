"""`nubes serve` as a process: one JSON log line per request, carrying the id the client sees."""

from __future__ import annotations

import json
import time

import httpx

from tests.e2e.conftest import Server


def _log_lines(server: Server) -> list[dict[str, object]]:
    lines = [line for line in server.log.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def test_each_request_is_logged_as_json_with_its_id(server: Server) -> None:
    ok = httpx.get(f"{server.url}/api/health", headers={"x-request-id": "e2e-trace-1"})
    missing = httpx.get(f"{server.url}/api/not-here")
    assert ok.headers["x-request-id"] == "e2e-trace-1"
    wanted = {"e2e-trace-1", missing.headers["x-request-id"]}
    deadline = time.monotonic() + 30  # the line is written once the response is out: it may trail the answer
    while True:
        entries = [entry for entry in _log_lines(server) if entry.get("event") == "request"]
        by_id = {entry["request_id"]: entry for entry in entries}
        if wanted <= by_id.keys() or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert by_id["e2e-trace-1"]["path"] == "/api/health"
    assert by_id["e2e-trace-1"]["status"] == 200
    assert by_id[missing.headers["x-request-id"]]["status"] == 404
    assert all({"timestamp", "level", "duration_ms", "method"} <= entry.keys() for entry in entries)


def test_startup_is_logged_without_secrets(server: Server) -> None:
    text = server.log.read_text()
    assert "server.starting" in text
    assert "Traceback" not in text
    secret = (server.log.parent / "secret_key").read_text().strip()
    assert secret not in text
