"""The web UI as a user sees it: the shell, a deep link, and the status page fed by the real API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from nubes import __version__
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

SECTIONS = ["Files", "Documents", "Apps", "Containers", "Workspaces", "Mail", "Monitoring", "Admin", "Status"]


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    yield await context.new_page()
    await context.close()


def _collect_problems(page: Page) -> list[str]:
    """Console errors (a CSP violation shows up here) and failed requests."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    return problems


async def test_shell_lists_every_section(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    problems = _collect_problems(page)
    await page.goto(server.url + "/")
    nav = page.get_by_role("navigation", name="Sections")
    for section in SECTIONS:
        await expect(nav.get_by_role("link", name=section, exact=True)).to_be_visible()
    await expect(page.get_by_role("banner")).to_contain_text("Nubes")
    await page.screenshot(path=artifacts / f"home-{engine_name}.png", full_page=True)
    assert problems == []


async def test_deep_link_to_a_section_renders_its_empty_state(page: Page, server: Server) -> None:
    """GIVEN a bookmarked client route WHEN it is loaded directly THEN the server hands it to the UI."""
    problems = _collect_problems(page)
    await page.goto(server.url + "/containers")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Containers")
    await expect(page.get_by_role("main")).to_contain_text("Coming soon")
    nav = page.get_by_role("navigation", name="Sections")
    await nav.get_by_role("link", name="Files", exact=True).click()
    await expect(page).to_have_url(server.url + "/files")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Files")
    assert problems == []


async def test_status_page_shows_health_and_version(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    problems = _collect_problems(page)
    await page.goto(server.url + "/")
    await page.get_by_role("navigation", name="Sections").get_by_role("link", name="Status", exact=True).click()
    await expect(page).to_have_title(re.compile("Status"))
    await expect(page.get_by_test_id("health-status")).to_have_text("ok")
    await expect(page.get_by_test_id("ready-status")).to_contain_text("ready")
    await expect(page.get_by_test_id("server-version")).to_have_text(__version__)
    await expect(page.get_by_test_id("db-engine")).to_contain_text(engine_name)
    await expect(page.get_by_test_id("check-database")).to_contain_text("ms")
    await page.screenshot(path=artifacts / f"status-{engine_name}.png", full_page=True)
    assert problems == []


async def test_unknown_client_route_says_not_found(page: Page, server: Server) -> None:
    await page.goto(server.url + "/no/such/page")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("not found", ignore_case=True)
    await expect(page.get_by_role("main")).to_contain_text("/no/such/page")
    await page.get_by_role("main").get_by_role("link", name="Go to the overview").click()
    await expect(page).to_have_url(server.url + "/")


async def test_api_docs_render(page: Page, server: Server) -> None:
    problems = _collect_problems(page)
    await page.goto(server.url + "/api/docs")
    await expect(page.locator(".swagger-ui .title")).to_contain_text("Nubes")
    await expect(page.get_by_text("/api/health").first).to_be_visible()
    assert problems == []
