"""Request bodies that trickle in are cut off, and one address sends only so many bodies at once (issue 11, item 10).

A real `nubes serve` with the limits set low, driven by raw sockets that send a request's headers and then
its body slowly (or not at all), as an attacker would; no wall-clock assertion beyond generous timeouts.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_database
from tests.serving import Server, serve

IDLE_TIMEOUT = 5  # seconds without a byte (room for a loaded machine between the steps of the cap test)
MIN_RATE = 1000  # bytes per second...
RATE_WINDOW = 1.5  # ...averaged over this many seconds of waiting
MAX_PER_IP = 2
PATIENCE = 30  # generous: how long a test waits for an answer the server owes


@pytest.fixture(scope="module")
async def slow_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("slow-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def slow_server(slow_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    limits = {
        "NUBES_BODY_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
        "NUBES_BODY_MIN_RATE": str(MIN_RATE),
        "NUBES_BODY_RATE_WINDOW": str(RATE_WINDOW),
        "NUBES_BODY_MAX_PER_IP": str(MAX_PER_IP),
    }
    with serve(slow_database_url, tmp_path_factory.mktemp("slow-data"), **limits) as running:
        yield running


def _blobs(server: Server) -> Path:
    return server.log.parent / "blobs"


def _open_upload(server: Server, token: str, name: str, length: int, first: bytes) -> socket.socket:
    """A raw-body upload of `length` bytes whose headers and first bytes are sent now, the rest never or later."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=PATIENCE)
    connection.sendall(
        f"POST /api/files/upload/raw?name={name} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n".encode()
        + first
    )
    return connection


def _answer(connection: socket.socket) -> tuple[int, dict[str, str], dict[str, object]]:
    """Read a whole response until the server closes the connection: status, headers, JSON body."""
    data = b""
    with connection:
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def _file_names(server: Server, token: str) -> list[str]:
    listing = httpx.get(f"{server.url}/api/files", headers={"Authorization": f"Bearer {token}"}).json()
    return [item["name"] for item in listing["items"]]


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _blob_files(server: Server) -> set[Path]:
    return set(_blobs(server).glob("??/??/*"))


def _assert_nothing_left(server: Server, token: str, name: str, blobs_before: set[Path]) -> None:
    assert name not in _file_names(server, token)
    assert _blob_files(server) == blobs_before, "a blob of the cut-off upload is left"
    _wait_for(lambda: not list((_blobs(server) / "tmp").iterdir()), "the temporary file to be removed")


def test_a_body_that_stops_gets_408_and_leaves_nothing(slow_server: Server) -> None:
    """GIVEN an upload that sends 10 of its 100,000 bytes and then nothing WHEN the idle timeout passes
    THEN the client gets a 408 problem, the connection is closed, and no row, blob or temporary file is left."""
    token = slow_server.admin_token()
    blobs_before = _blob_files(slow_server)
    connection = _open_upload(slow_server, token, "stalled.bin", 100_000, b"x" * 10)
    status, headers, problem = _answer(connection)
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert problem["type"] == "urn:nubes:problem:body-too-slow"
    assert f"nothing arrived for {IDLE_TIMEOUT} s" in str(problem["detail"])
    _assert_nothing_left(slow_server, token, "stalled.bin", blobs_before)


def test_a_body_under_the_minimum_rate_gets_408_and_leaves_nothing(slow_server: Server) -> None:
    """GIVEN an upload that keeps sending, one byte at a time, well under the minimum rate
    THEN it is cut off with a 408 although it never went quiet for the idle timeout."""
    token = slow_server.admin_token()
    blobs_before = _blob_files(slow_server)
    connection = _open_upload(slow_server, token, "trickled.bin", 100_000, b"")
    connection.settimeout(0.2)
    data = b""
    for _ in range(int(PATIENCE / 0.2)):
        try:
            connection.sendall(b"x")
        except OSError:  # the server answered and closed while we were still sending
            break
        try:
            data = connection.recv(65536)
        except TimeoutError:
            continue
        break
    connection.settimeout(PATIENCE)
    with connection:
        while chunk := connection.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 408 "), data
    assert b"bytes/s" in data
    _assert_nothing_left(slow_server, token, "trickled.bin", blobs_before)


def test_one_address_sends_only_so_many_bodies_at_once(slow_server: Server) -> None:
    """GIVEN MAX_PER_IP uploads from one address, each stalled mid-body WHEN it starts one more
    THEN that one is refused with 429 at once, a request without a body still works, and once the stalled
    ones are cut off the address can upload again."""
    token = slow_server.admin_token()
    tmp = _blobs(slow_server) / "tmp"
    # Larger than a small upload (whose bytes are gathered before any file is made): each has a temporary file
    # as soon as its body starts, which shows it reached the server.
    held = [_open_upload(slow_server, token, f"held-{n}.bin", 2_000_000, b"x" * 10) for n in range(MAX_PER_IP)]
    _wait_for(lambda: len(list(tmp.iterdir())) == MAX_PER_IP, "the stalled uploads to reach the server")
    status, headers, problem = _answer(_open_upload(slow_server, token, "one-more.bin", 5, b"hello"))
    assert status == 429
    assert problem["type"] == "urn:nubes:problem:too-many-bodies"
    assert "Retry-After".lower() in headers
    assert httpx.get(f"{slow_server.url}/api/health").status_code == 200
    assert [_answer(connection)[0] for connection in held] == [408] * MAX_PER_IP
    auth = {"Authorization": f"Bearer {token}"}
    after = httpx.post(f"{slow_server.url}/api/files/upload/raw", params={"name": "after.bin"}, content=b"hi", headers=auth)
    assert after.status_code == 201, after.text
    assert "one-more.bin" not in _file_names(slow_server, token)
