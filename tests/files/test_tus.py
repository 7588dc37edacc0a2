"""tus 1.0 resumable uploads through a real `nubes serve`, driven by the real tuspy client, on disk and on S3."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import secrets
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

from tests.conftest import empty_database
from tests.serving import Server, serve

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
async def transfer_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("tus-db") / "nubes.db") as url:
        yield url


@dataclass
class Running:
    server: Server
    data_dir: Path
    storage: str
    admin: dict[str, str]

    def user(self, name: str, *, quota: int | None = None) -> dict[str, str]:
        """A new member of the admin's tenant, signed in; their Authorization header."""
        password = "Granite-Oriole-Vessel-81"
        created = httpx.post(
            f"{self.server.url}/api/admin/users",
            json={"username": f"{name}-{secrets.token_hex(3)}", "password": password},
            headers=self.admin,
        )
        assert created.status_code == 201, created.text
        user = created.json()
        if quota is not None:
            put = httpx.put(
                f"{self.server.url}/api/admin/users/{user['id']}/quota", json={"quota_bytes": quota}, headers=self.admin
            )
            assert put.status_code == 204, put.text
        login = httpx.post(f"{self.server.url}/api/auth/login", json={"username": user["username"], "password": password})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    def tus(self, headers: dict[str, str]) -> tus.TusClient:
        return tus.TusClient(f"{self.server.url}/api/uploads", headers=headers)

    def files(self, headers: dict[str, str]) -> dict[str, dict[str, object]]:
        listing = httpx.get(f"{self.server.url}/api/files", headers=headers).json()
        return {item["name"]: item for item in listing["items"]}

    def content(self, headers: dict[str, str], file_id: object) -> bytes:
        return httpx.get(f"{self.server.url}/api/files/{file_id}/content", headers=headers, timeout=60).content


@pytest.fixture(scope="module", params=["local", "s3"])
def running(
    request: pytest.FixtureRequest, transfer_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """One server per engine and storage backend for the module's tests."""
    data_dir = tmp_path_factory.mktemp("tus-data")
    env: dict[str, str] = {}
    if request.param == "s3":
        moto_url = request.getfixturevalue("moto_url")
        bucket = f"nubes-{secrets.token_hex(4)}"
        httpx.put(f"{moto_url}/{bucket}").raise_for_status()
        env["NUBES_STORAGE_URL"] = f"s3://{bucket}?endpoint={moto_url}&access_key_id=test&secret_access_key=test&region=us-east-1"
    with serve(transfer_database_url, data_dir, **env) as server:
        yield Running(server, data_dir, request.param, {"Authorization": f"Bearer {server.admin_token()}"})


def _payload(size: int) -> bytes:
    return secrets.token_bytes(size)


def test_upload_with_tuspy(running: Running) -> None:
    """GIVEN a tuspy client WHEN it uploads in chunks with checksums THEN the file exists with the right bytes and sha256."""
    headers = running.user("tus")
    data = _payload(3 * 2**20 + 123)
    uploader = running.tus(headers).uploader(
        file_stream=io.BytesIO(data), chunk_size=2**20, metadata={"filename": "movie.bin"}, upload_checksum=True
    )
    uploader.upload()
    files = running.files(headers)
    assert files["movie.bin"]["size"] == len(data)
    assert files["movie.bin"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert running.content(headers, files["movie.bin"]["id"]) == data
    # The upload is gone once it made its file.
    assert uploader.url is not None
    assert httpx.head(uploader.url, headers=headers).status_code == 404
    quota = httpx.get(f"{running.server.url}/api/users/me/quota", headers=headers).json()
    assert quota["used_bytes"] == len(data)


def test_options_advertise_the_protocol(running: Running) -> None:
    response = httpx.options(f"{running.server.url}/api/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) >= {"creation", "termination", "checksum", "expiration"}
    assert set(response.headers["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256"}
    assert int(response.headers["Tus-Max-Size"]) > 0


def test_cut_upload_resumes_with_a_new_client(running: Running) -> None:
    """GIVEN an upload stopped half way WHEN a new tuspy client resumes at the same URL
    THEN it completes from the server's offset."""
    headers = running.user("resume")
    data = _payload(5 * 2**20)
    first = running.tus(headers).uploader(file_stream=io.BytesIO(data), chunk_size=2**20, metadata={"filename": "cut.bin"})
    first.upload(stop_at=2 * 2**20)
    url = first.url
    assert url is not None
    assert "cut.bin" not in running.files(headers)  # nothing visible before the last byte
    second = running.tus(headers).uploader(file_stream=io.BytesIO(data), chunk_size=2**20, url=url)
    assert second.offset == 2 * 2**20
    second.upload()
    files = running.files(headers)
    assert running.content(headers, files["cut.bin"]["id"]) == data


def test_new_version_through_tus(running: Running) -> None:
    headers = running.user("version")
    running.tus(headers).uploader(file_stream=io.BytesIO(b"one"), metadata={"filename": "doc.txt"}).upload()
    file_id = running.files(headers)["doc.txt"]["id"]
    running.tus(headers).uploader(file_stream=io.BytesIO(b"two!"), metadata={"target_id": str(file_id)}).upload()
    assert running.content(headers, file_id) == b"two!"
    versions = httpx.get(f"{running.server.url}/api/files/{file_id}/versions", headers=headers).json()
    assert [version["size"] for version in versions] == [3]


def _create(running: Running, headers: dict[str, str], length: int, name: str) -> str:
    meta = f"filename {base64.b64encode(name.encode()).decode()}"
    response = httpx.post(
        f"{running.server.url}/api/uploads",
        headers={**headers, "Tus-Resumable": "1.0.0", "Upload-Length": str(length), "Upload-Metadata": meta},
    )
    assert response.status_code == 201, response.text
    return f"{running.server.url}{response.headers['Location']}"


def _patch(url: str, headers: dict[str, str], offset: int, body: bytes, **extra: str) -> httpx.Response:
    return httpx.patch(
        url,
        content=body,
        headers={
            **headers,
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **extra,
        },
    )


def test_checksum_mismatch_discards_the_chunk(running: Running) -> None:
    headers = running.user("checksum")
    url = _create(running, headers, 10, "sum.bin")
    wrong = base64.b64encode(hashlib.sha1(b"other", usedforsecurity=False).digest()).decode()
    refused = _patch(url, headers, 0, b"01234", **{"Upload-Checksum": f"sha1 {wrong}"})
    assert refused.status_code == 460
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert httpx.head(url, headers=headers).headers["Upload-Offset"] == "0"
    unknown = _patch(url, headers, 0, b"01234", **{"Upload-Checksum": f"md5 {wrong}"})
    assert unknown.status_code == 400
    right = base64.b64encode(hashlib.sha256(b"01234").digest()).decode()
    accepted = _patch(url, headers, 0, b"01234", **{"Upload-Checksum": f"sha256 {right}"})
    assert accepted.status_code == 204
    assert accepted.headers["Upload-Offset"] == "5"
    assert _patch(url, headers, 5, b"56789").status_code == 204
    files = running.files(headers)
    assert running.content(headers, files["sum.bin"]["id"]) == b"0123456789"


def test_offset_mismatch_is_409(running: Running) -> None:
    headers = running.user("offset")
    url = _create(running, headers, 10, "offset.bin")
    assert _patch(url, headers, 0, b"abc").status_code == 204
    stale = _patch(url, headers, 0, b"abc")
    assert stale.status_code == 409
    assert httpx.head(url, headers=headers).headers["Upload-Offset"] == "3"
    too_long = _patch(url, headers, 3, b"x" * 20)
    assert too_long.status_code == 413
    assert httpx.head(url, headers=headers).headers["Upload-Offset"] == "3"
    wrong_type = httpx.patch(url, content=b"x", headers={**headers, "Upload-Offset": "3", "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


def test_another_users_upload_is_refused(running: Running) -> None:
    """GIVEN Bob's upload URL WHEN Eve sends HEAD, PATCH or DELETE to it THEN 404 each time and Bob's upload is untouched."""
    bob, eve = running.user("bob"), running.user("eve")
    url = _create(running, bob, 6, "bob.bin")
    assert _patch(url, bob, 0, b"bob").status_code == 204
    assert httpx.head(url, headers=eve).status_code == 404
    assert _patch(url, eve, 3, b"eve").status_code == 404
    assert httpx.delete(url, headers={**eve, "Tus-Resumable": "1.0.0"}).status_code == 404
    assert httpx.head(url).status_code == 401
    assert httpx.head(url, headers=bob).headers["Upload-Offset"] == "3"
    with pytest.raises((TusCommunicationError, TusUploadFailed)):
        running.tus(eve).uploader(file_stream=io.BytesIO(b"bobeve"), url=url).upload()


def test_quota_is_reserved_at_creation(running: Running) -> None:
    """GIVEN a 1000-byte quota WHEN two uploads of 600 bytes are created THEN the second is refused (413) at once;
    terminating the first frees its reservation."""
    headers = running.user("quota", quota=1000)
    url = _create(running, headers, 600, "a.bin")
    meta = f"filename {base64.b64encode(b'b.bin').decode()}"
    second = httpx.post(
        f"{running.server.url}/api/uploads",
        headers={**headers, "Tus-Resumable": "1.0.0", "Upload-Length": "600", "Upload-Metadata": meta},
    )
    assert second.status_code == 413
    assert second.json()["type"].endswith("quota-exceeded")
    with pytest.raises((TusCommunicationError, TusUploadFailed)):
        running.tus(headers).uploader(file_stream=io.BytesIO(b"x" * 2000), metadata={"filename": "big.bin"}).upload()
    assert httpx.delete(url, headers={**headers, "Tus-Resumable": "1.0.0"}).status_code == 204
    assert httpx.head(url, headers=headers).status_code == 404
    running.tus(headers).uploader(file_stream=io.BytesIO(b"y" * 600), metadata={"filename": "b.bin"}).upload()
    assert running.files(headers)["b.bin"]["size"] == 600


def test_name_clash_is_409_with_a_suggestion(running: Running) -> None:
    headers = running.user("clash")
    running.tus(headers).uploader(file_stream=io.BytesIO(b"1"), metadata={"filename": "same.txt"}).upload()
    meta = f"filename {base64.b64encode(b'same.txt').decode()}"
    clash = httpx.post(
        f"{running.server.url}/api/uploads",
        headers={**headers, "Tus-Resumable": "1.0.0", "Upload-Length": "1", "Upload-Metadata": meta},
    )
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["msg"] == "same (2).txt"


async def test_sigkill_mid_tus_upload_then_resume(transfer_database_url: str, tmp_path: Path) -> None:
    """GIVEN a tus upload with 2 MiB acknowledged and a chunk half sent WHEN the server is SIGKILLed and restarted
    THEN HEAD reports the acknowledged offset, a new tuspy client resumes there, and the file is whole."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data = _payload(6 * 2**20)
    with serve(transfer_database_url, data_dir) as server:
        headers = {"Authorization": f"Bearer {server.admin_token()}"}
        uploader = tus.TusClient(f"{server.url}/api/uploads", headers=headers).uploader(
            file_stream=io.BytesIO(data), chunk_size=2**20, metadata={"filename": "crash.bin"}
        )
        await asyncio.to_thread(uploader.upload, 2 * 2**20)
        url = uploader.url
        assert url is not None
        hold = asyncio.Event()

        async def half() -> AsyncIterator[bytes]:
            yield data[2 * 2**20 : 3 * 2**20]
            await hold.wait()
            yield data[3 * 2**20 : 4 * 2**20]

        staging = data_dir / "blobs" / "staging"
        async with httpx.AsyncClient(timeout=30) as http:
            patch = asyncio.create_task(
                http.patch(
                    url,
                    content=half(),
                    headers={
                        **headers,
                        "Tus-Resumable": "1.0.0",
                        "Upload-Offset": str(2 * 2**20),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(2 * 2**20),
                    },
                )
            )
            for _ in range(300):
                if any(path.stat().st_size > 2 * 2**20 for path in staging.iterdir()):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the chunk never reached the staging file")
            os.kill(server.pid, signal.SIGKILL)
            hold.set()
            with pytest.raises(httpx.TransportError):
                await patch
    with serve(transfer_database_url, data_dir) as server:
        headers = {"Authorization": f"Bearer {server.admin_token()}"}
        url = url.replace(url.split("/api/")[0], server.url)  # the restarted server listens on another port
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
            assert (await http.head(url)).headers["Upload-Offset"] == str(2 * 2**20)
            listing = (await http.get("/api/files")).json()
            assert "crash.bin" not in [item["name"] for item in listing["items"]]
            resumed = tus.TusClient(f"{server.url}/api/uploads", headers=headers).uploader(
                file_stream=io.BytesIO(data), chunk_size=2**20, url=url
            )
            assert resumed.offset == 2 * 2**20
            await asyncio.to_thread(resumed.upload)
            listing = (await http.get("/api/files")).json()
            (item,) = [item for item in listing["items"] if item["name"] == "crash.bin"]
            assert item["sha256"] == hashlib.sha256(data).hexdigest()
            assert (await http.get(f"/api/files/{item['id']}/content")).content == data
    assert list(staging.iterdir()) == []


def test_folder_gone_before_the_last_chunk(running: Running) -> None:
    """GIVEN an upload into a folder WHEN the folder is purged before the last chunk THEN the last PATCH is a 404,
    the upload is gone and its quota reservation given back."""
    headers = running.user("gone")
    folder = httpx.post(f"{running.server.url}/api/files/folders", json={"name": "box"}, headers=headers).json()
    meta = f"filename {base64.b64encode(b'x.bin').decode()},parent_id {base64.b64encode(folder['id'].encode()).decode()}"
    created = httpx.post(
        f"{running.server.url}/api/uploads",
        headers={**headers, "Tus-Resumable": "1.0.0", "Upload-Length": "6", "Upload-Metadata": meta},
    )
    url = f"{running.server.url}{created.headers['Location']}"
    assert _patch(url, headers, 0, b"abc").status_code == 204
    assert httpx.delete(f"{running.server.url}/api/files/{folder['id']}", headers=headers).status_code == 200
    assert httpx.delete(f"{running.server.url}/api/trash/{folder['id']}", headers=headers).status_code == 204
    assert _patch(url, headers, 3, b"def").status_code == 404
    assert httpx.head(url, headers=headers).status_code == 404
    assert httpx.get(f"{running.server.url}/api/users/me/quota", headers=headers).json()["used_bytes"] == 0
