"""Browser tests: a real `nubes serve` process and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Playwright, async_playwright

from nubes.config import REPO_ROOT
from tests.serving import Server, redis_server, serve

CHROMIUM = Path(os.environ.get("NUBES_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
WEB_DIST = REPO_ROOT / "web" / "dist"

__all__ = ["Server"]  # the browser tests import it from here


@pytest.fixture(scope="session")
def server(server_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`nubes serve` on a free loopback port, on the engine under test, serving the real UI build.

    With Redis, as replicas run: tests that change rows by hand (to age a sign-in) then drop every cached
    caller through it, as an operator editing the database would (`Server.redis_url`).
    """
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("the web UI is not built (web/dist); `make test` builds it")
    with (
        redis_server(tmp_path_factory.mktemp("serve-redis")) as redis_url,
        serve(server_database_url, tmp_path_factory.mktemp("serve"), NUBES_REDIS_URL=redis_url) as running,
    ):
        yield running


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
