"""The file manager in depth: layouts, sort, multi-select, move/copy, versions, search, favorites, trash, quota, gallery."""

from __future__ import annotations

import io
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, FilePayload, Page, expect

from tests.e2e.browsing import collect_problems, signed_in_context
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

SHOTS = Path("/tmp/shots-filesui")  # noqa: S108 - screenshots to look at after a run, not a secret


def png(width: int, height: int, color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
async def manager_context(browser: Browser, server: Server) -> AsyncIterator[BrowserContext]:
    """A profile of its own: the layout choice lives in localStorage and must not leak into other tests."""
    context = await signed_in_context(browser, server, server.admin_username, server.admin_password)
    yield context
    await context.close()


@pytest.fixture
async def page(manager_context: BrowserContext) -> AsyncIterator[Page]:
    tab = await manager_context.new_page()
    yield tab
    await tab.close()


def row(page: Page, name: str) -> object:
    return page.locator(f'[data-testid="file-row"][data-name="{name}"]')


async def names_in_order(page: Page) -> list[str]:
    names: list[str] = await page.locator('[data-testid="file-row"]').evaluate_all("rows => rows.map(r => r.dataset.name)")
    return names


async def open_menu(page: Page, name: str, action: str) -> None:
    await page.get_by_role("button", name=f"Actions for {name}", exact=True).click()
    await page.get_by_role("menuitem", name=action, exact=True).click()


async def shot(page: Page, name: str, engine_name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one mkdir, no event loop to speak of
    await page.screenshot(path=SHOTS / f"{name}-{engine_name}.png", full_page=True)


async def test_the_file_manager(page: Page, server: Server, engine_name: str) -> None:
    problems = collect_problems(page)
    album = f"album-{secrets.token_hex(3)}"
    await page.goto(server.url + "/files")
    await page.get_by_role("button", name="New folder").click()
    await page.get_by_role("dialog", name="New folder").get_by_label("Name").fill(album)
    await page.get_by_role("button", name="Create folder").click()
    await page.locator(f'[data-testid="file-row"][data-name="{album}"]').get_by_role("button", name=album, exact=True).click()
    await expect(page.get_by_role("navigation", name="Breadcrumbs")).to_contain_text(album)
    await expect(page.get_by_text("This folder is empty")).to_be_visible()

    files: list[FilePayload] = [
        {"name": "red.png", "mimeType": "image/png", "buffer": png(400, 300, "red")},
        {"name": "blue.png", "mimeType": "image/png", "buffer": png(120, 240, "blue")},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"n" * 5000},
        {"name": "a.txt", "mimeType": "text/plain", "buffer": b"first"},
    ]
    await page.get_by_test_id("upload-input").set_input_files(files=files)
    await expect(page.locator('[data-testid="upload"][data-state="done"]')).to_have_count(4)
    await page.get_by_role("button", name="New folder").click()
    await page.get_by_role("dialog", name="New folder").get_by_label("Name").fill("inbox")
    await page.get_by_role("button", name="Create folder").click()
    await expect(page.locator('[data-testid="file-row"][data-name="inbox"]')).to_be_visible()

    # Grid view with thumbnails, remembered across a reload.
    await page.get_by_role("group", name="Layout").get_by_role("button", name="grid").click()
    card = page.locator('[data-testid="file-card"][data-name="red.png"]')
    await expect(card).to_be_visible()
    await page.wait_for_function(
        """name => {
            const img = document.querySelector(`[data-testid="file-card"][data-name="${name}"] img[data-testid="thumbnail"]`);
            return img !== null && img.complete && img.naturalWidth > 0;
        }""",
        arg="red.png",
        timeout=30_000,
    )
    await shot(page, "grid", engine_name)
    await page.reload()
    await expect(page.locator('[data-testid="file-card"]')).to_have_count(5)
    await page.get_by_role("group", name="Layout").get_by_role("button", name="list").click()
    await expect(page.locator('[data-testid="file-row"]')).to_have_count(5)

    # Sort by size, both ways; folders stay first.
    await page.get_by_role("button", name="Size").click()
    ascending = await names_in_order(page)
    await page.get_by_role("button", name="Size").click()
    descending = await names_in_order(page)
    assert ascending[0] == descending[0] == "inbox"
    assert descending[1:] == list(reversed(ascending[1:]))
    assert ascending[1] == "a.txt"
    await shot(page, "list", engine_name)

    # A folder cannot be moved into itself: the picker does not offer it.
    await open_menu(page, "inbox", "Move to…")
    picker = page.get_by_role("dialog", name="Move inbox")
    await picker.get_by_role("button", name=f"Open {album}").click()
    await expect(picker.locator('[data-testid="picker-folder"][data-name="inbox"]')).to_be_disabled()
    await picker.get_by_role("button", name="Cancel").click()

    # Select two files and move them with the dialog.
    await page.get_by_label("Select notes.txt").click()
    await page.get_by_label("Select a.txt").click()
    await expect(page.get_by_test_id("selection-count")).to_have_text("2 selected")
    await page.get_by_role("toolbar", name="Selection").get_by_role("button", name="Move").click()
    mover = page.get_by_role("dialog", name="Move 2 items")
    await mover.get_by_role("button", name=f"Open {album}").click()
    await mover.locator('[data-testid="picker-folder"][data-name="inbox"]').click()
    await shot(page, "move-dialog", engine_name)
    await mover.get_by_role("button", name="Move here").click()
    await expect(mover).to_be_hidden()
    await expect(page.locator('[data-testid="file-row"][data-name="notes.txt"]')).to_have_count(0)

    # Copy one through its menu.
    await open_menu(page, "red.png", "Copy to…")
    copier = page.get_by_role("dialog", name="Copy red.png")
    await copier.get_by_role("button", name=f"Open {album}").click()
    await copier.locator('[data-testid="picker-folder"][data-name="inbox"]').click()
    await copier.get_by_role("button", name="Copy here").click()
    await expect(copier).to_be_hidden()
    await page.locator('[data-testid="file-row"][data-name="inbox"]').get_by_role("button", name="inbox", exact=True).click()
    await expect(page.locator('[data-testid="file-row"]')).to_have_count(3)

    # A second version, then restore the first from the versions panel.
    file_id = await page.locator('[data-testid="file-row"][data-name="a.txt"]').get_attribute("data-id")
    status = await page.evaluate(
        """async id => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const headers = {'X-CSRF-Token': token};
            const answer = await fetch(`/api/files/${id}/content`, {method: 'PUT', body: 'second!', headers});
            return answer.status;
        }""",
        file_id,
    )
    assert status == 200
    await page.reload()
    await open_menu(page, "a.txt", "Details and versions")
    panel = page.get_by_role("complementary", name="Details")
    await expect(panel.get_by_test_id("version-current")).to_contain_text("Version 2")
    await expect(panel.locator('[data-testid="version"]')).to_have_count(1)
    await shot(page, "details-versions", engine_name)
    await panel.get_by_role("button", name="Restore version 1").click()
    await expect(panel.get_by_test_id("version-current")).to_contain_text("Version 3")
    await expect(panel.locator('[data-testid="version"]')).to_have_count(2)
    body = await page.evaluate("async id => (await fetch(`/api/files/${id}/content`)).text()", file_id)
    assert body == "first"
    await panel.get_by_role("button", name="Close details").click()

    # The quota bar shows what is used, versions included.
    quota = page.get_by_test_id("quota")
    await expect(quota).to_contain_text("used")
    await expect(quota).to_contain_text("Versions 12 B")  # "first" and "second!"

    # Search (debounced) finds a file with its folder; "open location" goes there.
    await page.goto(server.url + "/files")
    await page.get_by_label("Search files").fill("notes")
    hit = page.locator('[data-testid="file-row"][data-name="notes.txt"]')
    await expect(hit).to_be_visible()
    await expect(hit.get_by_test_id("location")).to_contain_text(f"My files / {album} / inbox")
    await shot(page, "search", engine_name)
    await hit.get_by_test_id("location").click()
    await expect(page.get_by_role("navigation", name="Breadcrumbs").locator('[aria-current="page"]')).to_have_text("inbox")

    # Favorites: star, then find it in the Favorites view.
    await page.get_by_role("button", name="Star notes.txt").click()
    await expect(page.get_by_role("button", name="Unstar notes.txt")).to_be_visible()
    views = page.get_by_role("navigation", name="File views")
    await views.get_by_role("link", name="Favorites", exact=True).click()
    await expect(page.locator('[data-testid="file-row"][data-name="notes.txt"]')).to_be_visible()
    await page.locator('[data-testid="file-row"][data-name="notes.txt"]').get_by_test_id("location").click()
    await expect(page.get_by_role("navigation", name="Breadcrumbs").locator('[aria-current="page"]')).to_have_text("inbox")
    inbox_url = page.url

    # Delete with the keyboard, restore from the trash.
    await page.get_by_label("Select a.txt").click()
    await page.get_by_role("region", name="Files").press("Delete")
    await page.get_by_role("dialog", name="Delete a.txt?").get_by_role("button", name="Move to trash").click()
    await expect(page.locator('[data-testid="file-row"][data-name="a.txt"]')).to_have_count(0)
    await views.get_by_role("link", name="Trash", exact=True).click()
    trashed = page.locator('[data-testid="trash-row"][data-name="a.txt"]')
    await expect(trashed).to_be_visible()
    await expect(page.get_by_test_id("quota")).not_to_contain_text("Trash 0 B")
    await trashed.get_by_role("button", name="Restore a.txt").click()
    await expect(trashed).to_have_count(0)
    await page.goto(inbox_url)
    await expect(page.locator('[data-testid="file-row"][data-name="a.txt"]')).to_be_visible()

    # The gallery of the album: thumbnails, then full size with previous / next.
    await page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name=album).click()
    await page.get_by_role("group", name="Layout").get_by_role("button", name="gallery").click()
    await expect(page.locator('[data-testid="gallery-item"]')).to_have_count(2)
    await page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="gallery-item"] img')]
            .every(img => img.complete && img.naturalWidth > 0)""",
        timeout=30_000,
    )
    await shot(page, "gallery", engine_name)
    await page.locator('[data-testid="gallery-item"][data-name="blue.png"]').click()
    viewer = page.get_by_test_id("media-viewer")
    await expect(viewer.get_by_test_id("media-name")).to_have_text("blue.png")
    await page.wait_for_function("""() => document.querySelector('[data-testid="media-viewer"] img')?.naturalWidth === 120""")
    await shot(page, "lightbox", engine_name)
    await viewer.get_by_role("button", name="Next").click()
    await expect(viewer.get_by_test_id("media-name")).to_have_text("red.png")
    await viewer.get_by_role("button", name="Close viewer").click()
    await page.get_by_role("group", name="Layout").get_by_role("button", name="list").click()

    # Listings left mid-load are aborted on purpose (and reported as failed requests); the media must pass the CSP.
    assert [problem for problem in problems if "Content Security Policy" in problem] == []
