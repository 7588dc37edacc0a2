"""Browser tests: a real `nubes serve` process and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Playwright, async_playwright

from nubes.config import REPO_ROOT
from tests.conftest import create_postgres_database, drop_postgres_database

CHROMIUM = Path(os.environ.get("NUBES_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
WEB_DIST = REPO_ROOT / "web" / "dist"


ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "Harbor-Lantern-Quartz-42"


@dataclass
class Server:
    """A running `nubes serve` with its first admin."""

    url: str
    log: Path
    admin_username: str = ADMIN_USERNAME
    admin_password: str = ADMIN_PASSWORD


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
async def server_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database of its own for the served process (it bootstraps and commits, unlike the other tests)."""
    if engine_name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('serve-db') / 'nubes.db'}"
        return
    url = await create_postgres_database()
    yield url
    await drop_postgres_database(url)


@pytest.fixture(scope="session")
def server(server_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`nubes serve` on a free loopback port, on the engine under test, serving the real UI build."""
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("the web UI is not built (web/dist); `make test` builds it")
    database_url = server_database_url
    data_dir = tmp_path_factory.mktemp("serve")
    port = _free_port()
    log = data_dir / "serve.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
    env |= {
        "NUBES_DATA_DIR": str(data_dir),
        "NUBES_DATABASE_URL": database_url,
        "NUBES_PORT": str(port),
        "NUBES_ADMIN_USERNAME": ADMIN_USERNAME,
        "NUBES_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "nubes", "serve"], env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"nubes serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"nubes serve did not become ready within 60 s:\n{log.read_text()}")
        time.sleep(0.2)
    yield Server(url=url, log=log)
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium (a test tool's own browser download cannot work on these machines)."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(playwright: Playwright, chromium: Path) -> AsyncIterator[Browser]:
    """One headless Chromium for the session."""
    launched = await playwright.chromium.launch(
        executable_path=str(chromium),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )
    yield launched
    await launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
