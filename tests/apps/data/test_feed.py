"""The changes feed against real `nubes serve` processes: every write once and in order across a restart, long-poll
woken by a write, Server-Sent Events, and concurrent writers whose changes a reader never sees out of order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import Server, serve

FEED = "/api/apps/data/me/restart"


@pytest.fixture(scope="module")
def server(server_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that need no restart."""
    with serve(server_database_url, tmp_path_factory.mktemp("feed-server")) as running:
        yield running


@contextlib.contextmanager
def admin_of(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token()}"}, timeout=90) as http:
        yield http


def write(http: httpx.Client, key: str, body: dict[str, object], feed: str = FEED) -> dict[str, object]:
    response = http.put(f"{feed}/docs/{key}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def seqs(http: httpx.Client, since: int = 0, feed: str = FEED) -> list[int]:
    response = http.get(f"{feed}/changes", params={"since": since, "limit": 1000})
    assert response.status_code == 200, response.text
    return [change["seq"] for change in response.json()["results"]]


@pytest.mark.timeout(300)
def test_the_feed_delivers_every_write_once_in_order_across_a_restart(server_database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path
    with serve(server_database_url, data_dir) as server, admin_of(server) as http:
        for number in range(5):
            write(http, f"doc-{number}", {"n": number})
        assert seqs(http) == [1, 2, 3, 4, 5]

        # Long-poll: waits for the next write, wakes with it.
        answered: list[httpx.Response] = []
        poller = threading.Thread(
            target=lambda: answered.append(http.get(f"{FEED}/changes", params={"since": 5, "feed": "longpoll", "timeout": 60}))
        )
        poller.start()
        write(http, "doc-5", {"n": 5})
        poller.join()
        assert [change["key"] for change in answered[0].json()["results"]] == ["doc-5"]
        assert answered[0].json()["last_seq"] == 6

        # An empty long-poll ends at its timeout with nothing.
        quiet = http.get(f"{FEED}/changes", params={"since": 6, "feed": "longpoll", "timeout": 0.5}).json()
        assert quiet == {"results": [], "last_seq": 6, "pending": 0}

    with serve(server_database_url, data_dir) as server, admin_of(server) as http:
        assert seqs(http) == [1, 2, 3, 4, 5, 6]
        assert seqs(http, since=6) == []
        write(http, "doc-6", {"n": 6})
        assert seqs(http, since=6) == [7]


@pytest.mark.timeout(300)
def test_server_sent_events_stream_each_write(server: Server) -> None:
    sse = "/api/apps/data/me/sse"
    with admin_of(server) as http:
        write(http, "before", {"n": 0}, sse)
        last = seqs(http, feed=sse)[-1]
        events: list[dict[str, object]] = []
        ids: list[str] = []
        opened = threading.Event()

        def listen() -> None:
            params: dict[str, str | int] = {"since": last, "feed": "eventsource", "timeout": 60}
            with http.stream("GET", f"{sse}/changes", params=params) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                opened.set()
                for line in stream.iter_lines():
                    if line.startswith("id: "):
                        ids.append(line[4:])
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))
                        if len(events) == 3:
                            return

        listener = threading.Thread(target=listen)
        listener.start()
        opened.wait(60)
        for number in range(3):
            write(http, f"sse-{number}", {"n": number}, sse)
        listener.join(90)
        assert [event["key"] for event in events] == ["sse-0", "sse-1", "sse-2"]
        assert ids == [str(last + 1), str(last + 2), str(last + 3)]


@pytest.mark.timeout(300)
async def test_concurrent_writers_never_make_a_reader_skip_a_seq(server: Server) -> None:
    """GIVEN 8 writers putting 10 documents each into one collection at once
    WHEN a reader follows the feed with `since` = the last seq it saw, again and again while they write
    THEN it sees every seq from 1 to 80 exactly once and in order (no later-committed smaller seq is skipped)."""
    token = server.admin_token()
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=90) as http:
        seen: list[int] = []
        done = asyncio.Event()

        async def writer(number: int) -> None:
            for item in range(10):
                response = await http.put(f"/api/apps/data/me/race/docs/w{number}-{item}", json={"n": item})
                assert response.status_code == 200, response.text

        async def reader() -> None:
            since = 0
            while not done.is_set() or since < 80:
                response = await http.get("/api/apps/data/me/race/changes", params={"since": since, "limit": 7})
                if response.status_code == 404:  # no write committed yet
                    await asyncio.sleep(0)
                    continue
                batch = [change["seq"] for change in response.json()["results"]]
                seen.extend(batch)
                since = batch[-1] if batch else since

        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer(number) for number in range(8)))
        done.set()
        await asyncio.wait_for(reading, 120)
        assert seen == list(range(1, 81))
