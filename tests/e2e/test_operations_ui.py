"""Alerts and backups in the browser: an administrator makes a disk rule from a template, sees it fire on the stored
figures and silences it; backs the install up with "Back up now" and follows it to a verified restore point; then
brings one of their files back from that restore point through the trash."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from nubes.ops.metrics.recorder import Recorder
from tests.conftest import on_one_engine
from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import Server

# SQLite only: the rules' evaluation and the backups run on both engines in tests/ops; the pages are the same.
pytestmark = [pytest.mark.e2e, on_one_engine("sqlite")]


async def fill_a_disk(database_url: str, mount: str) -> None:
    """Ten minutes of a node's disk at 95 %, written to the server's database as the recorder writes heartbeats."""
    engine = create_async_engine(database_url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        recorder = Recorder()
        now = int(time.time())
        for at in range(now - 600, now + 1, 30):
            labels = {"host": "e2e-node", "source": "node", "mount": mount}
            recorder.record("host_disk_total_bytes", 100e9, labels)
            recorder.record("host_disk_used_bytes", 95e9, labels)
            await recorder.flush(sessions, at=at)
    finally:
        await engine.dispose()


async def test_a_disk_rule_from_a_template_fires_and_is_silenced(
    page: Page, server: Server, server_database_url: str, artifacts: Path
) -> None:
    problems = collect_problems(page)
    mount = f"/srv/e2e-{secrets.token_hex(3)}"
    await fill_a_disk(server_database_url, mount)

    await page.goto(f"{server.url}/monitoring/alerts")
    await page.get_by_role("button", name="New rule").click()
    dialog = page.get_by_role("dialog", name="New alert rule")
    await dialog.get_by_test_id("rule-template").select_option("disk-full")
    await expect(dialog.get_by_label("Name")).to_have_value("Disk almost full")
    name = f"Disk almost full {mount}"
    await dialog.get_by_label("Name").fill(name)
    await dialog.get_by_label("Only series with these labels").fill(f"mount={mount}")
    await dialog.get_by_label("For (seconds)").fill("0")
    await dialog.get_by_role("button", name="Create rule").click()
    await expect(dialog).to_be_hidden()
    rule = page.get_by_test_id("alert-rule").filter(has_text=name)
    await expect(rule).to_contain_text("host_disk_used_ratio > 0.9")

    firing = page.get_by_test_id("alert-instance").filter(has_text=mount)
    for _ in range(12):  # the server evaluates every 5 s here; the page refreshes every 15 s, a reload at once
        if await firing.count():
            break
        await page.wait_for_timeout(2500)
        await page.reload()
    await expect(firing).to_contain_text("firing")
    await expect(firing).to_contain_text("0.95")
    await expect(rule).to_contain_text("1 firing")
    await page.screenshot(path=artifacts / "alerts-firing.png", full_page=True)

    await firing.get_by_role("button", name="Silence…").click()
    silence = page.get_by_role("dialog", name=f"Silence {name}")
    await silence.get_by_label("Why").fill("The e2e volume is meant to be full")
    await silence.get_by_role("button", name="Silence", exact=True).click()
    await expect(silence).to_be_hidden()
    await expect(firing).to_contain_text("silenced")
    await expect(page.get_by_text("The e2e volume is meant to be full")).to_be_visible()
    await page.screenshot(path=artifacts / "alerts-silenced.png", full_page=True)
    assert problems == []


def upload_a_file(server: Server) -> str:
    """A small file of the admin's, in their root: its name."""
    name = f"kept-{secrets.token_hex(3)}.txt"
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    body = b"worth keeping\n"
    httpx.post(f"{server.url}/api/files/upload/raw", params={"name": name}, content=body, headers=admin).raise_for_status()
    return name


async def test_back_up_now_then_restore_a_file_from_the_trash(page: Page, server: Server, artifacts: Path) -> None:
    problems = collect_problems(page)
    name = upload_a_file(server)

    await page.goto(f"{server.url}/admin/backups")
    await page.get_by_role("button", name="Back up now").click()
    newest = page.get_by_test_id("backup-run").first
    await expect(newest).to_contain_text("Back up now")
    await expect(newest).to_contain_text("succeeded", timeout=120_000)
    await expect(newest).to_contain_text("verified")
    await expect(page.get_by_test_id("last-verify")).to_be_visible()
    await page.screenshot(path=artifacts / "backups.png", full_page=True)

    await page.goto(f"{server.url}/files")
    await page.get_by_role("navigation", name="File views").get_by_role("link", name="Trash", exact=True).click()
    await page.get_by_role("button", name="Restore from backup").click()
    dialog = page.get_by_role("dialog", name="Restore from backup")
    await dialog.get_by_role("button", name=f"Restore {name} from backup").click()
    await expect(dialog.get_by_text(f"A copy of “{name}” is in your trash")).to_be_visible()
    await page.screenshot(path=artifacts / "backups-restore-dialog.png", full_page=True)
    await dialog.press("Escape")
    await expect(page.locator('[data-testid="trash-row"][data-name^="From backup"]').first).to_be_visible()
    assert problems == []
