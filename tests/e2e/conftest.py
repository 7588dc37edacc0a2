"""Browser tests: a real `nubes serve` process and Debian's Chromium driven by Playwright.

Each test runs on each engine (one `nubes serve` on SQLite, one on PostgreSQL) and, in the modules marked
`ALSO_THROUGH_THE_DEPLOYMENT`, a third time through the reference deployment (tests/deploy.py: nginx round robin in
front of three replicas and a worker, on PostgreSQL, S3 and Redis), as a browser meets Nubes scaled out: its calls,
a page's parallel ones too, land on different replicas, so what one replica wrote another must see (sessions and
their refresh, a sign-in's second step, a passkey's challenge, uploads and a tus upload's chunks, shares and links,
admin changes, jobs the worker runs). Every module is marked but two:
`test_serve_process` reads the one process's log, and `test_containers_ui` needs Docker and an agent, which
tests/test_deployment.py already drives across replicas (the console included), for some 40 s more per run.
`-k "not deployment"` leaves the deployment out.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from nubes.config import REPO_ROOT
from tests.conftest import BROWSER_TARGETS, DEPLOYMENT
from tests.deploy import reference_deployment
from tests.e2e import browsing
from tests.files.conftest import moto_url
from tests.serving import Server, redis_server, serve

CHROMIUM = Path(os.environ.get("NUBES_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
WEB_DIST = REPO_ROOT / "web" / "dist"
DEPLOYMENT_TIMEOUT = 300
"""Seconds for a test through the deployment: the first one on a worker waits for its six processes to start."""

ALSO_THROUGH_THE_DEPLOYMENT = pytest.mark.parametrize("engine_name", BROWSER_TARGETS, indirect=True)
"""A module's mark: its tests run on SQLite and through the deployment (PostgreSQL; tests/conftest.py BROWSER_TARGETS)."""

__all__ = ["Server", "moto_url"]  # the browser tests import Server from here; the fixture, for the deployment


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A longer deadline for the tests through the deployment (a deadline for hangs, not a speed assertion)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("engine_name") == DEPLOYMENT:
            item.add_marker(pytest.mark.timeout(DEPLOYMENT_TIMEOUT))


@pytest.fixture(scope="session")
def server(
    engine_name: str, server_database_url: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """`nubes serve` on a free loopback port, on the engine under test, serving the real UI build; or the deployment.

    With Redis, as replicas run: tests that change rows by hand (to age a sign-in) then drop every cached
    caller through it, as an operator editing the database would (`Server.redis_url`).
    The deployment's URL is its balancer's, as `localhost` (WebAuthn refuses an IP address as relying party); its
    `log` and `pid` are its first replica's (no test through it reads a log or stops a process).
    """
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("the web UI is not built (web/dist); `make test` builds it")
    if engine_name == DEPLOYMENT:
        moto: str = request.getfixturevalue("moto_url")  # only here: the engines' servers keep files on disk
        home = tmp_path_factory.mktemp("deployment")
        # The product's job lease and sweep interval, not the short ones tests/test_deployment.py needs to see a
        # killed worker's job retried and sweeps counted: no browser test does either.
        lease = {"NUBES_JOB_LEASE": "300", "NUBES_SWEEP_INTERVAL": "300"}
        with reference_deployment(server_database_url, moto, home, public_host="localhost", **lease) as deployment:
            first = deployment.replicas[0]
            yield Server(url=deployment.url, log=first.log, pid=first.pid, redis_url=deployment.redis.url)
        return
    backups = tmp_path_factory.mktemp("backups")
    password_file = backups / "password"
    password_file.write_text("e2e-backup-password\n")
    password_file.chmod(0o600)
    operations = {
        "NUBES_ALERTS_INTERVAL": "5",  # the alerts page sees a rule fire within seconds (the default is 30 s)
        "NUBES_BACKUP_REPOSITORY": str(backups / "repository"),
        "NUBES_BACKUP_PASSWORD_FILE": str(password_file),
    }
    with (
        redis_server(tmp_path_factory.mktemp("serve-redis")) as redis_url,
        serve(server_database_url, tmp_path_factory.mktemp("serve"), NUBES_REDIS_URL=redis_url, **operations) as running,
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


@pytest.fixture(scope="module")
async def admin_context(browser: Browser, server: Server) -> AsyncIterator[BrowserContext]:
    """One signed-in admin profile for the module: each sign-in counts against the server's per-IP login limit."""
    context = await browsing.signed_in_context(browser, server, server.admin_username, server.admin_password)
    yield context
    await context.close()


@pytest.fixture
async def page(admin_context: BrowserContext) -> AsyncIterator[Page]:
    """A new tab of the signed-in admin."""
    tab = await admin_context.new_page()
    yield tab
    await tab.close()
