"""Apps in the browser: a platform administrator registers the test service in Admin → Services (a bad address is
refused with its reason), sees its health chart, manifest and settings form; a member then sees its card on the Apps
page with its health and the way to open it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.apps.conftest import RunningService, run_test_service
from tests.e2e.browsing import collect_problems, signed_in_context
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e]

PASSWORD = "Copper-lantern-meadow-river-27"


@pytest.fixture(scope="module")
def echo_service() -> Iterator[RunningService]:
    with run_test_service() as service:
        yield service


def _create_member(server: Server) -> str:
    username = f"e2e-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{server.url}/api/admin/users",
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    response.raise_for_status()
    return username


@pytest.fixture
async def member_context(browser: Browser, server: Server) -> AsyncIterator[BrowserContext]:
    context = await signed_in_context(browser, server, _create_member(server), PASSWORD)
    yield context
    await context.close()


async def test_an_admin_registers_a_service_and_a_member_sees_its_card(
    page: Page, member_context: BrowserContext, server: Server, *, echo_service: RunningService, artifacts: Path, engine_name: str
) -> None:
    problems = collect_problems(page)
    await page.goto(f"{server.url}/admin/services")
    await expect(page.get_by_role("heading", name="Services")).to_be_visible()
    form = page.get_by_role("form", name="Register a service")

    await form.get_by_label("Base URL").fill("http://127.0.0.1:1")
    await form.get_by_role("button", name="Register").click()
    await expect(page.get_by_test_id("register-error")).to_contain_text("cannot be reached")

    await form.get_by_label("Base URL").fill(echo_service.url)
    await form.get_by_role("button", name="Register").click()
    await expect(page.get_by_text("Echo is registered.")).to_be_visible()
    row = page.get_by_test_id("service-row").filter(has_text="Echo")
    await expect(row).to_contain_text(echo_service.url)
    await page.screenshot(path=str(artifacts / f"apps-admin-services-{engine_name}.png"), full_page=True)

    await row.get_by_role("link", name="Details").click()
    await expect(page.get_by_role("heading", name="Echo")).to_be_visible()
    await page.get_by_role("button", name="Check now").click()
    await expect(page.get_by_test_id("health").first).to_contain_text("Up")
    chart = page.get_by_test_id("health-chart")
    await expect(chart).to_have_attribute("aria-label", "Health over the last 24 hours: 1 check, 0 failed")
    await expect(page.get_by_test_id("manifest")).to_contain_text('"id": "echo"')
    settings = page.get_by_role("form", name="Settings")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(settings).to_contain_text("API key is required")
    await settings.get_by_label("Retries").fill("4")
    await settings.get_by_label("API key").fill("e2e-secret")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(settings).to_contain_text("Saved.")
    await expect(settings.get_by_label("API key")).to_have_value("")
    await page.screenshot(path=str(artifacts / f"apps-admin-service-{engine_name}.png"), full_page=True)

    member = await member_context.new_page()
    member_problems = collect_problems(member)
    await member.goto(f"{server.url}/apps")
    card = member.get_by_test_id("app-card").filter(has_text="Echo")
    await expect(card).to_be_visible()
    await expect(card.get_by_test_id("health")).to_contain_text("Up")
    await expect(card.get_by_role("link", name="Open", exact=True)).to_have_attribute("href", "/apps/echo/")
    await expect(card.get_by_role("link", name="Open in new tab")).to_have_attribute("target", "_blank")
    await member.screenshot(path=str(artifacts / f"apps-page-{engine_name}.png"), full_page=True)
    # The two refusals the test asked for answer 422, which the browser logs; nothing else may fail.
    assert [problem for problem in problems if "status of 422" not in problem] == []
    assert len(problems) == 2
    assert member_problems == []
