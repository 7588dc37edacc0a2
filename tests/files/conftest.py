"""Fixtures of the files tests: both storage backends (local disk, and S3 through moto's standalone server)."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import jobs
from nubes.core.storage import LocalStorage, S3Storage, Storage
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.serving import PORT_ATTEMPTS, free_port, stop_process

STORAGES = ["local", "s3"]


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's standalone S3 server on a loopback port (it speaks the S3 wire protocol); stopped after the session."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    # A port found free can be taken by a parallel worker before moto binds it: then try another.
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        with log.open("w") as output:
            process = subprocess.Popen(
                [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while process.poll() is None:
                try:
                    httpx.get(f"{url}/moto-api/", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"moto_server did not start within 30 s:\n{log.read_text()}")
                    time.sleep(0.1)
            if process.returncode is not None:
                output_text = log.read_text()
                if "address already in use" in output_text.lower() and attempt + 1 < PORT_ATTEMPTS:
                    continue
                pytest.fail(f"moto_server exited with {process.returncode}:\n{output_text}")
            yield url
            return
        finally:
            stop_process(process)


def s3_storage(moto_url: str) -> S3Storage:
    """A fresh bucket on the moto server, as Nubes would open it from NUBES_STORAGE_URL."""
    bucket = f"nubes-{secrets.token_hex(4)}"
    httpx.put(f"{moto_url}/{bucket}").raise_for_status()
    return S3Storage.from_url(f"s3://{bucket}?endpoint={moto_url}&access_key_id=test&secret_access_key=test&region=us-east-1")


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """The backend under test: the local disk or S3."""
    if request.param == "local":
        return LocalStorage(tmp_path / "blobs", secret="test-secret")
    return s3_storage(request.getfixturevalue("moto_url"))


@pytest.fixture
async def app(app: FastAPI, storage: Storage) -> AsyncIterator[FastAPI]:
    """The real app on the storage backend under test; pending blob deletions finish before the test ends."""
    app.state.storage = storage
    yield app
    await jobs.wait_for_after_commit()


@pytest.fixture
async def alice(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> SignedIn:
    """A member of a tenant of her own, signed in."""
    tenant = await make_tenant(session)
    return await login(client, await make_user(session, settings, tenant))


async def blob_keys(storage: Storage) -> set[str]:
    """Every blob the backend holds (to prove nothing was left behind)."""
    if isinstance(storage, LocalStorage):
        return {path.name for path in storage.root.glob("??/??/*")}
    import obstore  # noqa: PLC0415 - only the S3 case needs it

    assert isinstance(storage, S3Storage)
    keys: set[str] = set()
    async for batch in obstore.list(storage.store):
        keys |= {entry["path"] for entry in batch}
    return keys
