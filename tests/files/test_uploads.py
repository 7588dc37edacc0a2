"""Hostile uploads: past the quota, lying Content-Length, a client that goes away. Never a partial file, never orphan rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import jobs
from nubes.core.storage import LocalStorage, Storage
from nubes.files.quota import service as quota_service
from nubes.files.tree.models import FileNode
from nubes.files.versions.models import FileVersion
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_user
from tests.files.conftest import blob_keys


async def _set_quota(session: AsyncSession, who: SignedIn, quota: int) -> None:
    await quota_service.set_user_quota(session=session, tenant_id=who.user.tenant_id, user_id=who.user.id, quota_bytes=quota)
    await session.flush()


async def _nothing_kept(session: AsyncSession, storage: Storage, *, files: int = 0, blobs: int = 0) -> None:
    await jobs.wait_for_after_commit()
    assert await session.scalar(select(func.count()).select_from(FileNode).where(FileNode.kind == "file")) == files
    assert len(await blob_keys(storage)) == blobs
    if isinstance(storage, LocalStorage):
        assert storage.leftovers() == []


async def test_uploads_past_the_quota_are_refused_on_every_path(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, storage: Storage
) -> None:
    await _set_quota(session, alice, 1000)
    first = await client.post("/api/files/upload/raw", params={"name": "a.bin"}, content=b"a" * 600, headers=alice.headers)
    assert first.status_code == 201, first.text
    file_id = first.json()["id"]

    # Declared too large: refused before a byte is read.
    declared = await client.post("/api/files/upload/raw", params={"name": "b.bin"}, content=b"b" * 600, headers=alice.headers)
    assert declared.status_code == 413
    assert declared.json()["type"] == "urn:nubes:problem:quota-exceeded"

    # Not declared (chunked): cut off as soon as the stream passes the space left.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"c" * 100

    streamed = await client.post("/api/files/upload/raw", params={"name": "c.bin"}, content=chunks(), headers=alice.headers)
    assert streamed.status_code == 413, streamed.text

    # Multipart.
    multipart = await client.post("/api/files/upload", files={"file": ("d.bin", b"d" * 600)}, headers=alice.headers)
    assert multipart.status_code == 413

    # A new version: the old content stays (versions count), so 600 + 500 does not fit.
    version = await client.put(f"/api/files/{file_id}/content", content=b"e" * 500, headers=alice.headers)
    assert version.status_code == 413
    assert await session.scalar(select(func.count()).select_from(FileVersion)) == 0

    # A copy counts too.
    assert (await client.post(f"/api/files/{file_id}/copy", json={}, headers=alice.headers)).status_code == 413

    # The trash counts until it is emptied.
    assert (await client.delete(f"/api/files/{file_id}", headers=alice.headers)).status_code == 200
    again = await client.post("/api/files/upload/raw", params={"name": "f.bin"}, content=b"f" * 600, headers=alice.headers)
    assert again.status_code == 413
    await _nothing_kept(session, storage, files=1, blobs=1)
    assert (await client.delete("/api/trash", headers=alice.headers)).status_code == 204
    again = await client.post("/api/files/upload/raw", params={"name": "f.bin"}, content=b"f" * 600, headers=alice.headers)
    assert again.status_code == 201
    quota = (await client.get("/api/users/me/quota", headers=alice.headers)).json()
    assert quota == {
        "used_bytes": 600,
        "trash_bytes": 0,
        "versions_bytes": 0,
        "quota_bytes": 1000,
        "tenant_used_bytes": 600,
        "tenant_quota_bytes": None,
        "available_bytes": 400,
    }


async def test_exactly_the_quota_fits(client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession) -> None:
    await _set_quota(session, alice, 1000)
    response = await client.post("/api/files/upload/raw", params={"name": "full"}, content=b"x" * 1000, headers=alice.headers)
    assert response.status_code == 201
    empty = await client.post("/api/files/upload/raw", params={"name": "empty"}, content=b"", headers=alice.headers)
    assert empty.status_code == 201  # an empty file takes no space
    one_more = await client.post("/api/files/upload/raw", params={"name": "more"}, content=b"x", headers=alice.headers)
    assert one_more.status_code == 413


async def test_a_wrong_content_length_keeps_nothing(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, storage: Storage, app: FastAPI
) -> None:
    """GIVEN a body that is shorter or longer than its Content-Length WHEN uploaded THEN 400 and nothing is kept."""
    for declared, body in ((100, b"x" * 50), (10, b"y" * 50)):
        status, problem = await _raw_asgi_upload(app, alice, declared=declared, parts=[body], disconnect=False)
        assert status == 400, problem
        assert b"upload-incomplete" in problem
    await _nothing_kept(session, storage)


async def test_a_small_upload_answers_as_if_it_was_checked_before_its_body(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, storage: Storage, app: FastAPI
) -> None:
    """GIVEN small uploads (stored first, then checked and written in one transaction) WHEN several things are wrong
    THEN the answer is the first the checks before the body gave: folder, taken name, declared size, then the body."""
    await _set_quota(session, alice, 1000)
    first = await client.post("/api/files/upload/raw", params={"name": "a.bin"}, content=b"a" * 600, headers=alice.headers)
    assert first.status_code == 201, first.text
    taken_and_over = await client.post(
        "/api/files/upload/raw", params={"name": "A.bin"}, content=b"b" * 600, headers=alice.headers
    )
    assert taken_and_over.status_code == 409, taken_and_over.text
    assert taken_and_over.json()["type"] == "urn:nubes:problem:name-taken"
    over = await client.post("/api/files/upload/raw", params={"name": "b.bin"}, content=b"b" * 600, headers=alice.headers)
    assert over.status_code == 413, over.text
    assert over.json()["detail"] == "This file is 600 bytes; you have 400 bytes left. Free some space first."

    nowhere = f"name=upload.bin&parent_id={uuid.uuid4()}".encode()
    status, problem = await _raw_asgi_upload(app, alice, declared=100, parts=[b"x" * 50], disconnect=False, query=nowhere)
    assert status == 404, problem
    status, problem = await _raw_asgi_upload(app, alice, declared=100, parts=[b"x" * 50], disconnect=False, query=b"name=a.bin")
    assert status == 409, problem
    status, problem = await _raw_asgi_upload(app, alice, declared=500, parts=[b"x" * 50], disconnect=False)
    assert status == 413, problem
    status, problem = await _raw_asgi_upload(app, alice, declared=100, parts=[b"x" * 50], disconnect=False)
    assert status == 400, problem
    await _nothing_kept(session, storage, files=1, blobs=1)
    assert (await client.get("/api/users/me/quota", headers=alice.headers)).json()["used_bytes"] == 600


async def test_a_small_upload_past_the_tenants_quota_charges_nobody(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, storage: Storage
) -> None:
    """GIVEN a tenant quota smaller than the file and no user quota WHEN uploaded THEN 413, and the user's bytes did not move."""
    await quota_service.set_tenant_quota(session=session, tenant_id=alice.user.tenant_id, quota_bytes=500)
    await session.flush()
    refused = await client.post("/api/files/upload/raw", params={"name": "c.bin"}, content=b"c" * 600, headers=alice.headers)
    assert refused.status_code == 413, refused.text
    assert refused.json()["detail"] == "This file is 600 bytes; you have 500 bytes left. Free some space first."
    quota = (await client.get("/api/users/me/quota", headers=alice.headers)).json()
    assert (quota["used_bytes"], quota["tenant_used_bytes"]) == (0, 0)
    await _nothing_kept(session, storage)


async def test_a_client_that_goes_away_mid_upload_leaves_nothing(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, storage: Storage, app: FastAPI
) -> None:
    """GIVEN a client that sends 3 MiB of a declared 10 MiB, then disconnects THEN no row, no blob, no temporary file."""
    status, _ = await _raw_asgi_upload(app, alice, declared=10 * 2**20, parts=[b"z" * 2**20] * 3, disconnect=True)
    assert status == 400
    await _nothing_kept(session, storage)
    quota = (await client.get("/api/users/me/quota", headers=alice.headers)).json()
    assert quota["used_bytes"] == 0


async def test_a_replaced_content_cut_off_keeps_the_old_one(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, storage: Storage, app: FastAPI
) -> None:
    created = await client.post("/api/files/upload/raw", params={"name": "keep.txt"}, content=b"original", headers=alice.headers)
    file_id = created.json()["id"]
    status, _ = await _raw_asgi_upload(
        app, alice, declared=1000, parts=[b"partial"], disconnect=True, path=f"/api/files/{file_id}/content", method="PUT"
    )
    assert status == 400
    assert (await client.get(f"/api/files/{file_id}/content", headers=alice.headers)).content == b"original"
    assert (await client.get(f"/api/files/{file_id}/versions", headers=alice.headers)).json() == []
    await _nothing_kept(session, storage, files=1, blobs=1)


async def _raw_asgi_upload(
    app: FastAPI,
    who: SignedIn,
    *,
    declared: int,
    parts: list[bytes],
    disconnect: bool,
    path: str = "/api/files/upload/raw",
    method: str = "POST",
    query: bytes = b"name=upload.bin",
) -> tuple[int, bytes]:
    """Drive the app at the ASGI level, where a client can lie about Content-Length or vanish mid-body."""
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": part, "more_body": True} for part in parts]
    messages.append({"type": "http.disconnect"} if disconnect else {"type": "http.request", "body": b"", "more_body": False})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", who.headers["Authorization"].encode()),
            (b"content-length", str(declared).encode()),
            (b"content-type", b"application/octet-stream"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return int(start["status"]), body


async def test_an_admin_sets_a_users_quota(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    tenant = await session.get_one(Tenant, alice.user.tenant_id)
    owner = await login(client, await make_user(session, settings, tenant, roles=("owner",)))
    url = f"/api/admin/users/{alice.user.id}/quota"
    assert (await client.put(url, json={"quota_bytes": 5}, headers=alice.headers)).status_code == 403  # members may not
    assert (await client.put(url, json={"quota_bytes": 5}, headers=owner.headers)).status_code == 204
    assert (await client.get("/api/users/me/quota", headers=alice.headers)).json()["quota_bytes"] == 5
    refused = await client.post("/api/files/upload/raw", params={"name": "six"}, content=b"x" * 6, headers=alice.headers)
    assert refused.status_code == 413
    assert (await client.put(url, json={"quota_bytes": None}, headers=owner.headers)).status_code == 204
    assert (await client.get("/api/users/me/quota", headers=alice.headers)).json()["quota_bytes"] is None
    for bad in (True, "5", -1, 1.5):
        assert (await client.put(url, json={"quota_bytes": bad}, headers=owner.headers)).status_code == 422, bad


async def test_an_empty_tus_upload_makes_an_empty_file(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN Upload-Length: 0 WHEN the upload is created THEN the empty file exists at once, on either backend."""
    made = await client.post(
        "/api/uploads",
        headers={**alice.headers, "Tus-Resumable": "1.0.0", "Upload-Length": "0", "Upload-Metadata": "filename ZW1wdHk="},
    )
    assert made.status_code == 201, made.text
    node = await client.get(f"/api/files/{made.headers['nubes-file-id']}", headers=alice.headers)
    assert (node.json()["name"], node.json()["size"]) == ("empty", 0)
    assert (await client.get(f"/api/files/{node.json()['id']}/content", headers=alice.headers)).content == b""
