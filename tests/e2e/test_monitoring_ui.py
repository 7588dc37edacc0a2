"""Monitoring in the browser: an administrator opens the dashboard, switches its range and sees charts drawn from the
stored metrics; the storage page lists a user with what they store."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from nubes.ops.metrics.recorder import Recorder
from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e]

PASSWORD = "Copper-lantern-meadow-river-27"


async def record_history(database_url: str) -> None:
    """Ten minutes of a replica's CPU and memory, written to the server's database as its recorder would."""
    engine = create_async_engine(database_url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        recorder = Recorder()
        now = int(time.time())
        for at in range(now - 600, now, 15):
            labels = {"host": "e2e-replica", "source": "replica"}
            recorder.record("host_cpu_percent", 20 + (at % 60) / 3, labels)
            recorder.record("host_memory_used_bytes", 1.5e9 + (at % 120) * 1e6, labels)
            await recorder.flush(sessions, at=at)
    finally:
        await engine.dispose()


def member_with_a_file(server: Server) -> tuple[str, str]:
    """A new member of the admin's tenant who uploaded 5000 bytes: their username and the tenant's name."""
    username = f"e2e-{secrets.token_hex(4)}"
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    httpx.post(
        f"{server.url}/api/admin/users", headers=admin, json={"username": username, "password": PASSWORD}
    ).raise_for_status()
    login = httpx.post(f"{server.url}/api/auth/login", json={"username": username, "password": PASSWORD})
    login.raise_for_status()
    mine = {"Authorization": f"Bearer {login.json()['access_token']}"}
    httpx.post(f"{server.url}/api/files/upload", headers=mine, files={"file": ("report.bin", b"r" * 5000)}).raise_for_status()
    overview = httpx.get(f"{server.url}/api/ops/overview", headers=admin)
    overview.raise_for_status()
    return username, overview.json()["tenant_name"]


async def test_an_admin_reads_the_dashboard_and_the_storage_page(
    page: Page, server: Server, server_database_url: str, artifacts: Path, engine_name: str
) -> None:
    problems = collect_problems(page)
    await record_history(server_database_url)
    username, tenant_name = member_with_a_file(server)

    await page.goto(f"{server.url}/monitoring")
    await expect(page.get_by_role("heading", name="Platform")).to_be_visible()
    cpu = page.get_by_role("img", name="CPU per replica over time")
    await expect(cpu.locator("canvas")).to_have_count(1)
    await expect(page.get_by_text("e2e-replica").first).to_be_visible()

    for range_ in ("24h", "7d", "1h"):
        await page.get_by_role("group", name="Range").get_by_role("button", name=range_, exact=True).click()
        await expect(page).to_have_url(f"{server.url}/monitoring?range={range_}")
        await expect(page.get_by_role("button", name=range_, exact=True)).to_have_attribute("aria-pressed", "true")
    await expect(cpu.locator("canvas")).to_have_count(1)
    await page.screenshot(path=artifacts / f"monitoring-dashboard-{engine_name}.png", full_page=True)

    await page.get_by_role("link", name="Storage").click()
    await expect(page.get_by_role("heading", name="Storage", exact=True)).to_be_visible()
    await page.get_by_test_id("tenant-storage").filter(has_text=tenant_name).get_by_role("button").click()
    row = page.get_by_test_id("largest-user").filter(has_text=username)
    await expect(row).to_contain_text("4.88 KiB")
    await page.screenshot(path=artifacts / f"monitoring-storage-{engine_name}.png", full_page=True)
    assert problems == []
