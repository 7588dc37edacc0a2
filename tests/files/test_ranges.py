"""Byte ranges and validators: property tests against Python slicing as the reference, then the HTTP answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nubes.core.storage import BlobNotFound, LocalStorage, Storage
from nubes.files.tree.content import RangeNotSatisfiable, byte_range
from tests.factories import SignedIn


def reference(spec: tuple[int | None, int | None], data: bytes) -> bytes | None:
    """What RFC 9110 says `bytes=first-last` selects, by slicing; None when unsatisfiable."""
    first, last = spec
    if first is None:
        assert last is not None
        return data[-last:] if last > 0 else None
    if first >= len(data):
        return None
    return data[first:] if last is None else data[first : last + 1]


specs = st.one_of(
    st.tuples(st.integers(0, 300), st.none()),
    st.tuples(st.integers(0, 300), st.integers(0, 300)).filter(lambda pair: pair[1] >= pair[0]),
    st.tuples(st.none(), st.integers(0, 300)),
)


def header_of(spec: tuple[int | None, int | None]) -> str:
    first, last = spec
    return f"bytes={'' if first is None else first}-{'' if last is None else last}"


@given(data=st.binary(min_size=1, max_size=200), spec=specs)
def test_byte_range_selects_what_slicing_selects(data: bytes, spec: tuple[int | None, int | None]) -> None:
    expected = reference(spec, data)
    if expected is None:
        with pytest.raises(RangeNotSatisfiable) as caught:
            byte_range(header_of(spec), len(data))
        assert caught.value.headers == {"Content-Range": f"bytes */{len(data)}"}
        return
    chosen = byte_range(header_of(spec), len(data))
    assert chosen is not None
    assert data[chosen[0] : chosen[1]] == expected


@given(header=st.text(max_size=30), size=st.integers(0, 1000))
def test_any_header_gives_a_range_inside_the_content_or_none_or_416(header: str, size: int) -> None:
    try:
        chosen = byte_range(header, size)
    except RangeNotSatisfiable:
        return
    if chosen is not None:
        first, end = chosen
        assert 0 <= first < end <= size


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-1", "bytes=0-1,3-4", "bytes=abc", "bytes=-", "bytes 0-1", ""])
def test_invalid_or_multiple_ranges_are_ignored(header: str) -> None:
    assert byte_range(header, 100) is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs)
def test_storage_reads_the_range_byte_range_chose(storage: Storage, spec: tuple[int | None, int | None]) -> None:
    """GIVEN a blob on the backend under test WHEN a range is read THEN it equals the reference slice."""
    data = _sample()
    key = "abcdef" + "0" * 26
    asyncio.run(_put_once(storage, key, data))
    expected = reference(spec, data)
    try:
        chosen = byte_range(header_of(spec), len(data))
    except RangeNotSatisfiable:
        assert expected is None
        return
    assert chosen is not None
    assert asyncio.run(_read(storage, key, *chosen)) == expected


_SAMPLE = os.urandom(257)


def _sample() -> bytes:
    return _SAMPLE


async def _put_once(storage: Storage, key: str, data: bytes) -> None:
    with contextlib.suppress(BlobNotFound):  # absent: written below
        if await storage.stat(key) == len(data):
            return

    async def chunks() -> AsyncIterator[bytes]:
        yield data[:100]
        yield data[100:]

    await storage.put(key, chunks(), expected_size=len(data))


async def _read(storage: Storage, key: str, first: int, end: int) -> bytes:
    return b"".join([chunk async for chunk in storage.get(key, first, end)])


async def test_http_ranges_and_validators(client: httpx.AsyncClient, alice: SignedIn) -> None:
    data = bytes(range(256)) * 4
    created = await client.post("/api/files/upload/raw", params={"name": "bytes.bin"}, content=data, headers=alice.headers)
    file = created.json()
    url = f"/api/files/{file['id']}/content"
    etag = f'"{file["sha256"]}"'

    async def get(**headers: str) -> httpx.Response:
        return await client.get(url, headers={**alice.headers, **headers})

    partial = await get(Range="bytes=10-19")
    assert partial.status_code == 206
    assert partial.content == data[10:20]
    assert partial.headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert partial.headers["content-length"] == "10"
    assert (await get(Range="bytes=-5")).content == data[-5:]
    assert (await get(Range="bytes=1000-")).content == data[1000:]
    assert (await get(Range="bytes=1020-5000")).headers["content-range"] == "bytes 1020-1023/1024"

    beyond = await get(Range="bytes=1024-")
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == "bytes */1024"
    assert beyond.headers["content-type"] == "application/problem+json"

    assert (await get(Range="bytes=0-1,5-6")).status_code == 200  # several ranges: the whole content

    assert (await get(**{"If-None-Match": etag})).status_code == 304
    assert (await get(**{"If-None-Match": f'"other", W/{etag}'})).status_code == 304
    assert (await get(**{"If-None-Match": "*"})).status_code == 304
    assert (await get(**{"If-None-Match": '"other"'})).status_code == 200

    assert (await get(Range="bytes=0-9", **{"If-Range": etag})).status_code == 206
    stale = await get(Range="bytes=0-9", **{"If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == data
    assert (await get(Range="bytes=0-9", **{"If-Range": f"W/{etag}"})).status_code == 200  # weak never matches
    modified = partial.headers["last-modified"]
    assert (await get(Range="bytes=0-9", **{"If-Range": modified})).status_code == 206

    # After an overwrite the old ETag no longer matches.
    await client.put(url, content=b"new content", headers=alice.headers)
    assert (await get(**{"If-None-Match": etag})).status_code == 200
    assert (await get(Range="bytes=0-2", **{"If-Range": etag})).content == b"new content"


async def test_an_empty_file_is_sent_whole(client: httpx.AsyncClient, alice: SignedIn) -> None:
    created = await client.post("/api/files/upload/raw", params={"name": "empty"}, content=b"", headers=alice.headers)
    response = await client.get(f"/api/files/{created.json()['id']}/content", headers={**alice.headers, "Range": "bytes=0-"})
    assert response.status_code == 200
    assert response.content == b""


class PathsendServer:
    """An ASGI server's side of `http.response.pathsend`, as Granian offers it: the app hands over a path, the
    server reads the file. Wraps the app for httpx and records the message types the app sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.sent: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = {**scope, "extensions": {**scope.get("extensions", {}), "http.response.pathsend": {}}}

        async def server_send(message: Message) -> None:
            self.sent.append(message["type"])
            if message["type"] == "http.response.pathsend":
                body = await asyncio.to_thread(Path(message["path"]).read_bytes)
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, server_send)


async def test_a_server_with_pathsend_sends_a_whole_local_blob_itself(
    app: FastAPI, client: httpx.AsyncClient, alice: SignedIn, storage: Storage
) -> None:
    """GIVEN a server offering pathsend WHEN a file is downloaded whole THEN a local blob goes as its path,
    with the same headers as a streamed one; a range, or an S3 blob, is streamed."""
    data = os.urandom(3000)
    created = await client.post("/api/files/upload/raw", params={"name": "ré sumé.pdf"}, content=data, headers=alice.headers)
    file = created.json()
    url = f"/api/files/{file['id']}/content"
    streamed = await client.get(url, headers=alice.headers)
    server = PathsendServer(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://testserver") as pathsend_client:
        whole = await pathsend_client.get(url, headers=alice.headers)
        whole_messages, server.sent = server.sent, []
        partial = await pathsend_client.get(url, headers={**alice.headers, "Range": "bytes=100-199"})
        partial_messages = server.sent

    assert whole.status_code == 200
    assert whole.content == data
    for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges", "content-disposition"):
        assert whole.headers[name] == streamed.headers[name]
    local = isinstance(storage, LocalStorage)
    assert ("http.response.pathsend" in whole_messages) is local
    assert partial.status_code == 206
    assert partial.content == data[100:200]
    assert partial.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert "http.response.pathsend" not in partial_messages
