"""Presigned uploads and downloads (seed 004), on disk (HMAC-signed Nubes URLs) and on S3 (native presigned URLs)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.storage import LocalStorage, Storage
from nubes.files.uploads import service as uploads
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_user

DATA = b"presigned bytes " * 1000


async def _put(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """PUT to a presigned URL: Nubes' own (in-process) or the S3 server's (over the network)."""
    if url.startswith("http://testserver"):
        return await client.put(url, content=body, headers=headers)
    async with httpx.AsyncClient() as outside:
        return await outside.put(url, content=body, headers=headers)


async def _get(client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    if url.startswith("http://testserver"):
        return await client.get(url, headers=headers)
    async with httpx.AsyncClient() as outside:
        return await outside.get(url, headers=headers)


async def _presign(client: httpx.AsyncClient, alice: SignedIn, **body: object) -> httpx.Response:
    return await client.post("/api/files/presign-upload", json=body, headers=alice.headers)


async def _quota_used(client: httpx.AsyncClient, alice: SignedIn) -> int:
    used: int = (await client.get("/api/users/me/quota", headers=alice.headers)).json()["used_bytes"]
    return used


async def test_presigned_upload_then_finalize(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a presigned URL WHEN the bytes are PUT there and the upload finalized THEN the file exists, checked."""
    digest = hashlib.sha256(DATA).hexdigest()
    grant = await _presign(client, alice, name="direct.bin", size=len(DATA), sha256=digest)
    assert grant.status_code == 201, grant.text
    body = grant.json()
    assert body["method"] == "PUT"
    assert (await _quota_used(client, alice)) == len(DATA)  # reserved at once
    put = await _put(client, body["url"], DATA, body["headers"])
    assert put.status_code in {200, 204}, put.text
    done = await client.post("/api/files/finalize", json={"upload_id": body["upload_id"]}, headers=alice.headers)
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == digest
    assert done.json()["size"] == len(DATA)
    download = await client.get(f"/api/files/{done.json()['id']}/content", headers=alice.headers)
    assert download.content == DATA
    assert (await _quota_used(client, alice)) == len(DATA)
    # Reused: the URL again, then finalize again.
    again = await _put(client, body["url"], b"x" * len(DATA), body["headers"])
    if body["url"].startswith("http://testserver"):
        assert again.status_code == 403
        assert again.headers["content-type"].startswith("application/problem+json")
    twice = await client.post("/api/files/finalize", json={"upload_id": body["upload_id"]}, headers=alice.headers)
    assert twice.status_code == 410
    download = await client.get(f"/api/files/{done.json()['id']}/content", headers=alice.headers)
    assert download.content == DATA  # a reused URL never reaches the file's bytes


async def test_finalize_checks_sha256_and_size(client: httpx.AsyncClient, alice: SignedIn, storage: Storage) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    grant = (await _presign(client, alice, name="lie.bin", size=len(DATA), sha256=wrong)).json()
    assert (await _put(client, grant["url"], DATA, grant["headers"])).status_code in {200, 204}
    refused = await client.post("/api/files/finalize", json={"upload_id": grant["upload_id"]}, headers=alice.headers)
    assert refused.status_code == 422
    assert (await _quota_used(client, alice)) == 0
    listing = (await client.get("/api/files", headers=alice.headers)).json()
    assert listing["items"] == []
    # A short body: refused at the PUT on disk, at finalize on S3; the reservation goes back either way.
    short = (await _presign(client, alice, name="short.bin", size=len(DATA))).json()
    put = await _put(client, short["url"], DATA[:100], short["headers"])
    done = await client.post("/api/files/finalize", json={"upload_id": short["upload_id"]}, headers=alice.headers)
    if isinstance(storage, LocalStorage):
        assert put.status_code == 400
        assert done.status_code == 400  # nothing arrived
    else:
        assert done.status_code == 400
        assert (await _quota_used(client, alice)) == 0
    # Finalize before any byte arrived.
    early = (await _presign(client, alice, name="early.bin", size=10)).json()
    assert (
        await client.post("/api/files/finalize", json={"upload_id": early["upload_id"]}, headers=alice.headers)
    ).status_code == 400


async def test_presign_refuses_clash_and_quota(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    await client.post("/api/files/folders", json={"name": "taken"}, headers=alice.headers)
    clash = await _presign(client, alice, name="taken", size=1)
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["msg"] == "taken (2)"
    admin = await login(client, await make_user(session, settings, await _tenant_of(session, alice), roles=("owner",)))
    assert (
        await client.put(f"/api/admin/users/{alice.user.id}/quota", json={"quota_bytes": 1000}, headers=admin.headers)
    ).status_code == 204
    assert (await _presign(client, alice, name="big.bin", size=1001)).status_code == 413
    assert (await _presign(client, alice, name="fits.bin", size=600)).status_code == 201
    assert (await _presign(client, alice, name="second.bin", size=600)).status_code == 413  # the first holds 600


async def _tenant_of(session: AsyncSession, alice: SignedIn) -> Tenant:
    return await session.get_one(Tenant, alice.user.tenant_id)


async def test_another_user_cannot_finalize(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    bob = await login(client, await make_user(session, settings, await _tenant_of(session, alice)))
    grant = (await _presign(client, alice, name="mine.bin", size=len(DATA))).json()
    await _put(client, grant["url"], DATA, grant["headers"])
    stolen = await client.post("/api/files/finalize", json={"upload_id": grant["upload_id"]}, headers=bob.headers)
    assert stolen.status_code == 404
    mine = await client.post("/api/files/finalize", json={"upload_id": grant["upload_id"]}, headers=alice.headers)
    assert mine.status_code == 201


async def test_local_urls_refuse_tampering_and_expiry(
    client: httpx.AsyncClient, alice: SignedIn, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(storage, LocalStorage):
        pytest.skip("S3 checks its own signatures; Nubes signs only the disk backend's URLs")
    grant = (await _presign(client, alice, name="t.bin", size=len(DATA))).json()
    subject, stamp, mac = grant["url"].rsplit("/", 1)[1].split(".")
    base = grant["url"].rsplit("/", 1)[0]
    forged_mac = f"{base}/{subject}.{stamp}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"
    later = f"{base}/{subject}.{int(stamp) + 3600}.{mac}"
    for url in (forged_mac, later, f"{base}/garbage", f"{base}/{subject}..{mac}"):
        refused = await client.put(url, content=DATA)
        assert refused.status_code == 403, url
        assert refused.headers["content-type"].startswith("application/problem+json")
    monkeypatch.setattr(uploads, "PRESIGN_EXPIRES_IN", timedelta(seconds=-1))
    expired = (await _presign(client, alice, name="old.bin", size=len(DATA))).json()
    refused = await client.put(expired["url"], content=DATA)
    assert refused.status_code == 403
    assert "expired" in refused.json()["detail"]


async def test_presigned_download(client: httpx.AsyncClient, alice: SignedIn, storage: Storage) -> None:
    made = await client.post("/api/files/upload/raw", params={"name": "d.bin"}, content=DATA, headers=alice.headers)
    file_id = made.json()["id"]
    grant = await client.post(f"/api/files/{file_id}/presign-download", headers=alice.headers)
    assert grant.status_code == 200, grant.text
    url = grant.json()["url"]
    assert (await _get(client, url)).content == DATA
    ranged = await _get(client, url, {"Range": "bytes=5-9"})
    assert ranged.status_code == 206
    assert ranged.content == DATA[5:10]
    if isinstance(storage, LocalStorage):
        subject, stamp, mac = url.rsplit("/", 1)[1].split(".")
        base = url.rsplit("/", 1)[0]
        assert (await client.get(f"{base}/{subject}.{int(stamp) + 60}.{mac}")).status_code == 403
        other = subject.replace(subject.split(":")[0], "00000000-0000-0000-0000-000000000000")
        assert (await client.get(f"{base}/{other}.{stamp}.{mac}")).status_code == 403
        # New content: the old link no longer serves anything.
        await client.put(f"/api/files/{file_id}/content", content=b"new", headers=alice.headers)
        assert (await client.get(url)).status_code == 410
    folder = await client.post("/api/files/folders", json={"name": "f"}, headers=alice.headers)
    assert (await client.post(f"/api/files/{folder.json()['id']}/presign-download", headers=alice.headers)).status_code == 422


async def test_view_only_share_of_a_folder_gives_no_upload_into_it(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN Alice's folder shared with Bob to view
    WHEN Bob asks for a presigned upload or a tus upload into it
    THEN both are refused (making a file in a folder needs edit), and with edit the presigned one is granted."""
    bob = await login(client, await make_user(session, settings, await _tenant_of(session, alice)))
    folder = (await client.post("/api/files/folders", json={"name": "Shared"}, headers=alice.headers)).json()
    shared = await client.post(
        f"/api/files/{folder['id']}/shares", json={"user_id": str(bob.user.id), "permission": "view"}, headers=alice.headers
    )
    assert shared.status_code == 201, shared.text
    refused = await _presign(client, bob, parent_id=folder["id"], name="planted.bin", size=3)
    assert refused.status_code in {403, 404}, refused.text
    meta = f"filename {base64.b64encode(b'planted.bin').decode()},parent_id {base64.b64encode(folder['id'].encode()).decode()}"
    tus = await client.post(
        "/api/uploads",
        headers={**bob.headers, "Tus-Resumable": "1.0.0", "Upload-Length": "3", "Upload-Metadata": meta},
    )
    assert tus.status_code in {403, 404}, tus.text
    edit = await client.patch(
        f"/api/files/{folder['id']}/shares/{shared.json()['id']}", json={"permission": "edit"}, headers=alice.headers
    )
    assert edit.status_code == 200, edit.text
    assert (await _presign(client, bob, parent_id=folder["id"], name="allowed.bin", size=3)).status_code == 201


def test_nubes_url_signatures_stay_byte_identical() -> None:
    """GIVEN the signing moved onto core.crypto THEN a URL signed before still verifies (same key, same MAC)."""
    key = hmac.new(b"secret", b"nubes/presigned-url/v1", hashlib.sha256).digest()
    mac = hmac.new(key, b"upload\nsubject\n123", hashlib.sha256).digest()
    assert uploads.sign("secret", "upload", "subject", "123") == base64.urlsafe_b64encode(mac).decode().rstrip("=")
