"""Identity in the browser: signing in and out, the account page, and the admin's users and audit log.

Every session here starts at the sign-in form; the tests then check that no token ever reaches
JavaScript storage. The served database is shared by all tests of an engine, so each test makes its
own users with unique names and none touches the admin's account.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.browsing import VIEWPORT, collect_problems, sign_in
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

STRONG_PASSWORD = "Quiet-lantern-orbit-meadow-58"


def _unique_username() -> str:
    return f"e2e-{secrets.token_hex(4)}"


def _unexpected(problems: list[str]) -> list[str]:
    """Problems other than the 401s a refused sign-in logs by design."""
    return [problem for problem in problems if "status of 401" not in problem]


async def _assert_no_token_in_storage(page: Page) -> None:
    stored = await page.evaluate("JSON.stringify(localStorage)+JSON.stringify(sessionStorage)")
    assert "eyJ" not in stored
    assert "nbr_" not in stored


@pytest.fixture
async def admin_page(admin_context: BrowserContext) -> AsyncIterator[Page]:
    tab = await admin_context.new_page()
    yield tab
    await tab.close()


@pytest.fixture
async def fresh_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A browser profile that has never signed in."""
    context = await browser.new_context(viewport=VIEWPORT)
    yield context
    await context.close()


async def _open_new_user_dialog(page: Page, server: Server) -> Locator:
    await page.goto(server.url + "/admin/users")
    await page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog", name="New user")
    await expect(dialog).to_be_visible()
    return dialog


async def _create_user(page: Page, server: Server, username: str) -> None:
    """Create a member through the "New user" dialog, as an admin would."""
    dialog = await _open_new_user_dialog(page, server)
    await dialog.get_by_label("Username").fill(username)
    await dialog.get_by_label("Email").fill(f"{username}@example.com")
    await dialog.get_by_label("Display name").fill(f"Test {username}")
    await dialog.get_by_label("Password").fill(STRONG_PASSWORD)
    await expect(dialog.get_by_role("checkbox", name="member")).to_be_checked()
    await dialog.get_by_role("button", name="Create user").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text(f"{username} was created")


async def _find_user_row(page: Page, username: str) -> Locator:
    await page.get_by_role("searchbox", name="Search users").fill(username)
    row = page.locator(f'[data-testid="user-row"][data-username="{username}"]')
    await expect(row).to_be_visible()
    return row


async def test_wrong_password_is_refused_with_a_message(
    fresh_context: BrowserContext, server: Server, artifacts: Path, engine_name: str
) -> None:
    page = await fresh_context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/login")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Nubes")
    await page.screenshot(path=artifacts / f"login-{engine_name}.png", full_page=True)
    await page.get_by_label("Username or email").fill(server.admin_username)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    await expect(page).to_have_url(server.url + "/login")
    await expect(page.get_by_label("Password")).to_have_value("")
    await page.screenshot(path=artifacts / f"login-error-{engine_name}.png", full_page=True)
    assert _unexpected(problems) == []


async def test_account_page_shows_the_user_and_marks_this_session(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    page = admin_page
    problems = collect_problems(page)
    await page.goto(server.url + "/")
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("account-menu-panel").get_by_role("link", name="Account").click()
    await expect(page).to_have_url(server.url + "/account")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Account")
    await expect(page.get_by_test_id("account-username")).to_have_text(f"@{server.admin_username}")
    main = page.get_by_role("main")
    await expect(main.get_by_role("list", name="Permissions")).to_contain_text("admin.users")
    await expect(main).to_contain_text("owner")
    current = page.locator('[data-testid="session-row"][data-current="true"]')
    await expect(current).to_have_count(1)
    await expect(current).to_contain_text("This device")
    await expect(current.get_by_role("button", name="Sign out")).to_have_count(0)
    await _assert_no_token_in_storage(page)
    await page.screenshot(path=artifacts / f"account-{engine_name}.png", full_page=True)
    assert problems == []


async def test_change_password_shows_the_policy_reason(admin_page: Page, server: Server) -> None:
    """The admin's password is not changed: the request is refused for its weak new password."""
    page = admin_page
    await page.goto(server.url + "/account")
    form = page.get_by_role("main")
    await form.get_by_label("Current password").fill(server.admin_password)
    await form.get_by_label("New password", exact=True).fill("password1234")
    await form.get_by_label("Confirm new password").fill("password12345")
    await form.get_by_role("button", name="Change password").click()
    await expect(form).to_contain_text("The two new passwords differ.")
    await form.get_by_label("Confirm new password").fill("password1234")
    await form.get_by_role("button", name="Change password").click()
    await expect(form).to_contain_text("most common passwords")
    await expect(form.get_by_label("New password", exact=True)).to_have_attribute("aria-invalid", "true")


async def test_expired_access_cookie_is_refreshed_once_and_the_call_retried(
    admin_page: Page, admin_context: BrowserContext, server: Server
) -> None:
    """GIVEN the 5-minute access cookie is gone WHEN a page makes several calls at once THEN one refresh serves them all."""
    page = admin_page
    problems = collect_problems(page)
    await page.goto(server.url + "/")
    await expect(page.get_by_test_id("account-menu")).to_be_visible()
    refreshes: list[str] = []
    page.on("request", lambda request: refreshes.append(request.url) if request.url.endswith("/api/auth/refresh") else None)
    await admin_context.clear_cookies(name="nubes_access")

    # Client-side navigation: the session re-check and the sessions list are both refused, then retried.
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("account-menu-panel").get_by_role("link", name="Account").click()
    await expect(page).to_have_url(server.url + "/account")
    await expect(page.locator('[data-testid="session-row"][data-current="true"]')).to_have_count(1)
    assert len(refreshes) == 1
    assert "nubes_access" in [cookie["name"] for cookie in await admin_context.cookies()]
    await _assert_no_token_in_storage(page)
    assert _unexpected(problems) == []


async def test_admin_creates_a_user_in_the_dialog(admin_page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    page = admin_page
    problems = collect_problems(page)
    username = _unique_username()
    await _create_user(page, server, username)
    row = await _find_user_row(page, username)
    await expect(row).to_contain_text(f"Test {username}")
    await expect(row).to_contain_text("Active")
    await expect(row).to_contain_text("Never")
    await page.get_by_role("searchbox", name="Search users").fill("")
    await expect(page.locator('[data-testid="user-row"][data-username="admin"]')).to_be_visible()
    await page.screenshot(path=artifacts / f"admin-users-{engine_name}.png", full_page=True)
    assert problems == []


async def test_weak_password_in_the_dialog_shows_the_policy_reasons(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    page = admin_page
    username = _unique_username()
    dialog = await _open_new_user_dialog(page, server)
    await dialog.get_by_label("Username").fill(username)
    await dialog.get_by_label("Email").fill("password@example.com")
    await dialog.get_by_label("Password").fill("password1234")
    await dialog.get_by_role("button", name="Create user").click()
    reasons = dialog.get_by_role("listitem")
    await expect(reasons.filter(has_text="most common passwords")).to_have_count(1)
    await expect(reasons.filter(has_text="must not contain your username or email name")).to_have_count(1)
    await expect(dialog.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    await page.screenshot(path=artifacts / f"admin-new-user-{engine_name}.png")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await page.get_by_role("searchbox", name="Search users").fill(username)
    await expect(page.get_by_role("main")).to_contain_text(f"No user matches “{username}”")


async def test_member_sees_no_admin_and_is_signed_out_when_deactivated(
    admin_page: Page, fresh_context: BrowserContext, server: Server
) -> None:
    """GIVEN a new member signed in elsewhere WHEN an admin deactivates them THEN their next click lands on /login."""
    username = _unique_username()
    await _create_user(admin_page, server, username)

    member = await fresh_context.new_page()
    problems = collect_problems(member)
    await member.goto(server.url + "/login")
    await sign_in(member, username, STRONG_PASSWORD)
    await expect(member).to_have_url(server.url + "/")
    nav = member.get_by_role("navigation", name="Sections")
    await expect(nav.get_by_role("link", name="Files", exact=True)).to_be_visible()
    await expect(nav.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    await expect(member.get_by_role("main").get_by_role("link", name="Admin")).to_have_count(0)
    await _assert_no_token_in_storage(member)
    assert problems == []

    row = await _find_user_row(admin_page, username)
    await expect(row).to_contain_text("Active")
    await row.get_by_role("button", name="Deactivate").click()
    confirm = admin_page.get_by_role("dialog", name=f"Deactivate {username}?")
    await confirm.get_by_role("button", name="Deactivate").click()
    await expect(confirm).to_be_hidden()
    await expect(row).to_contain_text("Deactivated")

    await nav.get_by_role("link", name="Documents", exact=True).click()
    await expect(member).to_have_url(server.url + "/login?next=%2Fdocuments")
    await expect(member.get_by_role("status")).to_contain_text("Your session has ended")
    # The session is revoked on the server, not just forgotten by the page.
    assert (await member.request.get(server.url + "/api/users/me")).status == 401
    refresh = await member.request.post(server.url + "/api/auth/refresh", headers={"Origin": server.url})
    assert refresh.status == 401


async def test_audit_log_lists_sign_ins_and_exports_csv(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    page = admin_page
    await page.goto(server.url + "/admin")
    await expect(page.get_by_role("main")).to_contain_text("Sign-in settings: coming next")
    await page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    await expect(page).to_have_url(server.url + "/admin/audit")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    await expect(page.locator('[data-testid="audit-row"][data-action="auth.login"]').first).to_be_visible()
    await page.screenshot(path=artifacts / f"audit-{engine_name}.png", full_page=True)

    await page.get_by_label("Action").fill("auth.login")
    await page.get_by_label("Outcome").select_option("success")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page).to_have_url(server.url + "/admin/audit?action=auth.login&outcome=success")
    await expect(page.locator('[data-testid="audit-row"]:not([data-action="auth.login"])')).to_have_count(0)
    await expect(page.get_by_test_id("audit-row").first).to_be_visible()

    export = page.get_by_role("link", name="Export CSV")
    href = await export.get_attribute("href")
    assert href is not None
    assert "format=csv" in href
    assert "action=auth.login" in href
    assert "outcome=success" in href
    async with page.expect_download() as download_info:
        await export.click()
    download = await download_info.value
    saved = artifacts / f"audit-{engine_name}.csv"
    await download.save_as(saved)
    lines = (await asyncio.to_thread(saved.read_text)).splitlines()
    assert lines[0] == "created_at,actor_name,action,outcome,target_type,target_id,ip,user_agent,detail"
    assert len(lines) > 1
    assert all(",auth.login,success," in line for line in lines[1:])


async def test_sign_out_ends_the_session(fresh_context: BrowserContext, server: Server) -> None:
    page = await fresh_context.new_page()
    await page.goto(server.url + "/account")
    await expect(page).to_have_url(server.url + "/login?next=%2Faccount")
    await sign_in(page, server.admin_username, server.admin_password)
    await expect(page).to_have_url(server.url + "/account")
    await _assert_no_token_in_storage(page)

    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("account-menu-panel").get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(server.url + "/login")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Nubes")
    assert [cookie["name"] for cookie in await fresh_context.cookies()] == []

    await page.goto(server.url + "/account")
    await expect(page).to_have_url(server.url + "/login?next=%2Faccount")
    await _assert_no_token_in_storage(page)
