"""The containers page in the browser: create from an egg (its variables as a form), see the rule errors and the new row.

No agent runs here, so a new container stays `installing`; tests/compute/test_docker.py drives the lifecycle.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.compute.eggs import ECHO_EGG
from tests.e2e.conftest import Server
from tests.e2e.test_shell import _collect_problems, signed_in_context

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def admin_context(browser: Browser, server: Server) -> AsyncIterator[BrowserContext]:
    context = await signed_in_context(browser, server, server.admin_username, server.admin_password)
    yield context
    await context.close()


@pytest.fixture(scope="module")
def infrastructure(server: Server) -> None:
    """A cluster with one node and two free ports, and the echo egg (through the API, as an operator would)."""
    headers = {"Authorization": f"Bearer {server.admin_token()}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        if any(egg["name"] == ECHO_EGG["name"] for egg in http.get("/api/eggs").json()):
            return
        cluster = http.post("/api/clusters", json={"name": f"e2e-{secrets.token_hex(3)}"}).json()
        capacity = {"cpu": 400, "memory_mb": 4096, "disk_mb": 20_000}
        body = {"name": f"e2e-{secrets.token_hex(3)}", "cluster_id": cluster["id"], **capacity}
        node = http.post("/api/nodes", json=body).json()
        ports = {"ip": "127.0.0.1", "ports": ["26000-26001"]}
        assert http.post(f"/api/nodes/{node['id']}/allocations", json=ports).status_code == 201
        assert http.post("/api/eggs/import", json=ECHO_EGG).status_code == 201


async def test_a_container_is_created_from_an_egg_in_the_browser(
    admin_context: BrowserContext, infrastructure: None, server: Server, artifacts: Path, engine_name: str
) -> None:
    page: Page = await admin_context.new_page()
    problems = _collect_problems(page)
    await page.goto(server.url + "/containers")
    form = page.get_by_role("form", name="New container")
    await expect(form.get_by_label("Greeting")).to_have_value("hello")  # the egg's default

    name = f"web-{secrets.token_hex(3)}"
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Greeting").fill("x" * 21)
    await form.get_by_role("button", name="Create and start").click()
    await expect(form).to_contain_text("GREETING must be at most 20 characters (rule max:20)")

    await form.get_by_label("Greeting").fill("hi from the web")
    await form.get_by_role("button", name="Create and start").click()
    row = page.get_by_test_id(f"container-{name}")
    await expect(row).to_contain_text("installing")
    await expect(row).to_contain_text("127.0.0.1:2600")
    await page.screenshot(path=artifacts / f"containers-{engine_name}.png", full_page=True)
    problems = [problem for problem in problems if "422" not in problem]  # the refused create is logged by the browser
    assert problems == []
    await page.close()
