"""Sharing in the browser: a dropped upload shared with a second user, then a password link opened by a stranger."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.browsing import VIEWPORT, collect_problems, signed_in_context
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server
from tests.e2e.test_identity_ui import STRONG_PASSWORD

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]


def _member(server: Server) -> str:
    """A new member of the admin's tenant, made through the API."""
    username = f"share-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{server.url}/api/admin/users",
        json={"username": username, "password": STRONG_PASSWORD, "roles": ["member"]},
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return username


async def test_share_with_a_user_and_open_a_password_link_without_an_account(
    browser: Browser, server: Server, artifacts: Path, engine_name: str
) -> None:
    alice, bob = _member(server), _member(server)
    name = f"shared-{secrets.token_hex(3)}.txt"
    data = b"bytes for the stranger " * 50
    link_password = "plum-orchard-lantern"

    alice_context = await signed_in_context(browser, server, alice, STRONG_PASSWORD)
    bob_context = await signed_in_context(browser, server, bob, STRONG_PASSWORD)
    stranger = await browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        page = await alice_context.new_page()
        problems = collect_problems(page)
        await page.goto(server.url + "/files")
        await expect(page.get_by_role("heading", name="Files")).to_be_visible()
        dropped = await page.evaluate_handle(
            """([name, text]) => {
                const dt = new DataTransfer();
                dt.items.add(new File([text], name, {type: 'text/plain'}));
                return dt;
            }""",
            [name, data.decode()],
        )
        await page.get_by_test_id("drop-zone").dispatch_event("drop", {"dataTransfer": dropped})
        row = page.locator(f'[data-testid="file-row"][data-name="{name}"]')
        await expect(row).to_be_visible()

        # Share with Bob through the directory search.
        await page.get_by_role("button", name=f"Actions for {name}").click()
        await page.get_by_role("menuitem", name="Share…").click()
        dialog = page.get_by_role("dialog", name=f"Share {name}")
        await dialog.get_by_label("Add people or groups").fill(bob)
        await dialog.get_by_role("button", name=f"Share with {bob}").click()
        await expect(dialog.get_by_test_id("share-row")).to_contain_text(bob)
        await page.screenshot(path=str(artifacts / f"sharing-dialog-{engine_name}.png"))
        await dialog.get_by_role("button", name="Done").click()

        bob_page = await bob_context.new_page()
        await bob_page.goto(server.url + "/files/shared")
        shared_row = bob_page.locator(f'[data-testid="shared-row"][data-name="{name}"]')
        await expect(shared_row).to_contain_text(alice)
        await expect(shared_row).to_contain_text("Can view")
        await bob_page.screenshot(path=str(artifacts / f"sharing-with-me-{engine_name}.png"))

        # A password link.
        await page.get_by_role("button", name=f"Actions for {name}").click()
        await page.get_by_role("menuitem", name="Get link…").click()
        link_dialog = page.get_by_role("dialog", name=f"Link to {name}")
        await link_dialog.get_by_label("Password").fill(link_password)
        await link_dialog.get_by_role("button", name="Create link").click()
        address_box = link_dialog.get_by_test_id("link-address")
        await expect(address_box).to_have_count(1)
        await expect(link_dialog.get_by_test_id("link-row")).to_contain_text("Password")
        address = await address_box.input_value()
        assert "/s/" in address
        await link_dialog.get_by_text("Open in a WebDAV client").click()
        dav_address = await link_dialog.get_by_test_id("link-dav-address").input_value()
        await expect(link_dialog.get_by_text("the link's password is the password")).to_be_visible()
        await page.screenshot(path=str(artifacts / f"sharing-link-dialog-{engine_name}.png"))
        # What the dialog gives a WebDAV client opens the file with the link's password (any username), not without.
        async with httpx.AsyncClient() as dav:
            assert (await dav.get(dav_address)).status_code == 401
            fetched = await dav.get(dav_address, auth=("anyone", link_password))
            assert fetched.status_code == 200, fetched.text
            assert fetched.content == data

        # A stranger's browser: no cookies, no account.
        assert await stranger.cookies() == []
        visitor = await stranger.new_page()
        await visitor.goto(address)
        await expect(visitor.get_by_role("heading", name="This link is protected")).to_be_visible()
        await visitor.get_by_label("Password").fill("not the password")
        await visitor.get_by_role("button", name="Open").click()
        await expect(visitor.get_by_role("alert")).to_contain_text("not this link's password")
        await visitor.get_by_label("Password").fill(link_password)
        await visitor.get_by_role("button", name="Open").click()
        await expect(visitor.get_by_role("heading", name=name)).to_be_visible()
        await expect(visitor.get_by_test_id("public-meta")).to_contain_text("1.1 KB")
        await visitor.screenshot(path=str(artifacts / f"sharing-public-page-{engine_name}.png"))
        async with visitor.expect_download() as download_info:
            await visitor.get_by_role("link", name="Download").click()
        download = await download_info.value
        assert download.suggested_filename == name
        assert (await download.path()).read_bytes() == data
        assert [problem for problem in problems if "status of 40" not in problem] == []
    finally:
        await stranger.close()
        await bob_context.close()
        await alice_context.close()
