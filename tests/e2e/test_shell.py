"""The web UI as a user sees it: sign-in first, then the shell, a deep link, and the status page fed by the real API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from nubes import __version__
from tests.conftest import engine_of
from tests.e2e.browsing import VIEWPORT, collect_problems, sign_in
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

SECTIONS = ["Files", "Documents", "Apps", "Containers", "Workspaces", "Mail", "Monitoring", "Admin", "Status"]


@pytest.fixture
async def anonymous_page(browser: Browser) -> AsyncIterator[Page]:
    """A tab in a fresh profile that has never signed in."""
    context = await browser.new_context(viewport=VIEWPORT)
    yield await context.new_page()
    await context.close()


async def test_shell_lists_every_section(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    problems = collect_problems(page)
    await page.goto(server.url + "/")
    nav = page.get_by_role("navigation", name="Sections")
    for section in SECTIONS:
        await expect(nav.get_by_role("link", name=section, exact=True)).to_be_visible()
    await expect(page.get_by_role("banner")).to_contain_text("Nubes")
    await expect(page.get_by_test_id("account-menu")).to_contain_text("Administrator")
    await page.screenshot(path=artifacts / f"home-{engine_name}.png", full_page=True)
    assert problems == []


async def test_unauthenticated_visit_goes_through_sign_in_and_back(anonymous_page: Page, server: Server) -> None:
    """GIVEN nobody is signed in WHEN /files is opened THEN /login asks first, and signing in lands on /files."""
    page = anonymous_page
    problems = collect_problems(page)
    await page.goto(server.url + "/files")
    await expect(page).to_have_url(server.url + "/login?next=%2Ffiles")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Nubes")
    await sign_in(page, server.admin_username, server.admin_password)
    await expect(page).to_have_url(server.url + "/files")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Files")
    assert problems == []


async def test_deep_link_to_a_section_renders_its_empty_state(page: Page, server: Server) -> None:
    """GIVEN a bookmarked client route WHEN it is loaded directly THEN the server hands it to the UI."""
    problems = collect_problems(page)
    await page.goto(server.url + "/workspaces")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Workspaces")
    await expect(page.get_by_role("main")).to_contain_text("Coming soon")
    nav = page.get_by_role("navigation", name="Sections")
    await nav.get_by_role("link", name="Files", exact=True).click()
    await expect(page).to_have_url(server.url + "/files")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Files")
    assert problems == []


async def test_status_page_shows_health_and_version(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    problems = collect_problems(page)
    await page.goto(server.url + "/")
    await page.get_by_role("navigation", name="Sections").get_by_role("link", name="Status", exact=True).click()
    await expect(page).to_have_title(re.compile("Status"))
    await expect(page.get_by_test_id("health-status")).to_have_text("ok")
    await expect(page.get_by_test_id("ready-status")).to_contain_text("ready")
    await expect(page.get_by_test_id("server-version")).to_have_text(__version__)
    await expect(page.get_by_test_id("db-engine")).to_contain_text(engine_of(engine_name))
    await expect(page.get_by_test_id("check-database")).to_contain_text("ms")
    await expect(page.get_by_test_id("check-redis")).to_contain_text("ms")  # the browser tests' server shares Redis
    await expect(page.get_by_test_id("server-replica")).to_have_text(re.compile(r"^[0-9a-f]{12}$"))
    await page.screenshot(path=artifacts / f"status-{engine_name}.png", full_page=True)
    assert problems == []


async def test_status_page_needs_no_sign_in(anonymous_page: Page, server: Server) -> None:
    """The status page is for operators checking a server, signed in or not."""
    page = anonymous_page
    problems = collect_problems(page)
    await page.goto(server.url + "/status")
    await expect(page).to_have_url(server.url + "/status")
    await expect(page.get_by_test_id("health-status")).to_have_text("ok")
    await expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    assert problems == []


async def test_unknown_client_route_says_not_found(page: Page, server: Server) -> None:
    await page.goto(server.url + "/no/such/page")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("not found", ignore_case=True)
    await expect(page.get_by_role("main")).to_contain_text("/no/such/page")
    await page.get_by_role("main").get_by_role("link", name="Go to the overview").click()
    await expect(page).to_have_url(server.url + "/")


async def test_api_docs_render(anonymous_page: Page, server: Server) -> None:
    page = anonymous_page
    problems = collect_problems(page)
    await page.goto(server.url + "/api/docs")
    # Swagger UI renders once it has parsed its 1.7 MB bundle and the schema, which the server builds on the first
    # request: past the default 5 s on a machine the other test workers keep busy.
    await expect(page.locator(".swagger-ui .title")).to_contain_text("Nubes", timeout=30_000)
    await expect(page.get_by_text("/api/health").first).to_be_visible()
    assert problems == []
