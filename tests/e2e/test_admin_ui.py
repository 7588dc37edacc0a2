"""Access tokens on the account page, and the admin's roles, groups and tenants pages, in the browser.

Every session starts at the sign-in form. The served database is shared by all tests of an engine,
so each test makes things with unique names and never touches the admin's own account or tenant.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.browsing import collect_problems, signed_in_context
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server
from tests.e2e.test_identity_ui import STRONG_PASSWORD, _create_user, _find_user_row, _open_new_user_dialog

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture
async def admin_page(admin_context: BrowserContext) -> AsyncIterator[Page]:
    tab = await admin_context.new_page()
    yield tab
    await tab.close()


async def test_access_token_is_shown_once_then_listed_and_revoked(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    page = admin_page
    problems = collect_problems(page)
    name = _unique("e2e-token")
    await page.goto(server.url + "/account")
    await page.get_by_role("button", name="New token").click()
    dialog = page.get_by_role("dialog", name="New access token")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Name").fill(name)
    await dialog.get_by_role("checkbox", name="files.read").check()
    await dialog.get_by_role("checkbox", name="documents.read").check()
    await dialog.get_by_label("Expires after").select_option(label="30 days")
    await dialog.get_by_role("button", name="Create token").click()

    shown = page.get_by_role("dialog", name="Token created")
    await expect(shown).to_contain_text("You will not see it again")
    secret_field = shown.get_by_test_id("new-token-value")
    secret = await secret_field.input_value()
    assert len(secret) > 20
    await expect(secret_field).to_have_attribute("readonly", "")
    await page.screenshot(path=artifacts / f"token-created-{engine_name}.png", full_page=True)
    await shown.get_by_role("button", name="Done").click()
    await expect(shown).to_be_hidden()

    row = page.locator(f'[data-testid="token-row"][data-name="{name}"]')
    await expect(row).to_be_visible()
    await expect(row.get_by_role("list", name=f"Scopes of {name}")).to_contain_text("files.read")
    await expect(row.get_by_role("list", name=f"Scopes of {name}")).to_contain_text("documents.read")
    prefix = (await row.get_by_test_id("token-prefix").inner_text()).rstrip("…")
    assert secret.startswith(prefix)
    assert secret not in await page.content()
    await page.screenshot(path=artifacts / f"tokens-{engine_name}.png", full_page=True)

    await row.get_by_role("button", name=f"Revoke {name}").click()
    confirm = page.get_by_role("dialog", name=f"Revoke {name}?")
    await confirm.get_by_role("button", name="Revoke").click()
    await expect(confirm).to_be_hidden()
    await expect(row).to_have_count(0)
    assert problems == []


async def test_custom_role_with_two_permissions_is_listed(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    page = admin_page
    problems = collect_problems(page)
    name = _unique("e2e-role")
    await page.goto(server.url + "/admin")
    await page.get_by_role("navigation", name="Admin").get_by_role("link", name="Roles").click()
    await expect(page).to_have_url(server.url + "/admin/roles")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Roles")
    owner = page.locator('[data-testid="role-row"][data-name="owner"]')
    await expect(owner).to_contain_text("Built-in")
    await expect(owner.get_by_role("button", name="Delete owner")).to_have_count(0)

    await page.get_by_role("button", name="New role").click()
    dialog = page.get_by_role("dialog", name="New role")
    await dialog.get_by_label("Name").fill(name)
    await dialog.get_by_label("Description").fill("Reads files and documents")
    await dialog.get_by_role("checkbox", name="files.read").check()
    await dialog.get_by_role("checkbox", name="documents.read").check()
    await page.screenshot(path=artifacts / f"role-dialog-{engine_name}.png", full_page=True)
    await dialog.get_by_role("button", name="Create role").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text(f"The role {name} was created.")

    row = page.locator(f'[data-testid="role-row"][data-name="{name}"]')
    await expect(row).to_be_visible()
    await expect(row.get_by_test_id("role-permission-count")).to_have_text("2")
    await expect(row.get_by_role("button", name=f"Edit {name}")).to_be_visible()
    await page.screenshot(path=artifacts / f"roles-{engine_name}.png", full_page=True)
    assert problems == []


async def test_group_is_created_and_gets_a_member(admin_page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    page = admin_page
    problems = collect_problems(page)
    member = _unique("e2e")
    await _create_user(page, server, member)
    name = _unique("e2e-group")
    await page.get_by_role("navigation", name="Admin").get_by_role("link", name="Groups").click()
    await expect(page).to_have_url(server.url + "/admin/groups")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Groups")

    await page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    await dialog.get_by_label("Name").fill(name)
    await dialog.get_by_label("Description").fill("People who read")
    await dialog.get_by_role("checkbox", name="viewer").check()
    await dialog.get_by_role("button", name="Create group").click()
    await expect(dialog).to_be_hidden()
    row = page.locator(f'[data-testid="group-row"][data-name="{name}"]')
    await expect(row).to_contain_text("viewer")
    await expect(row.get_by_test_id("group-member-count")).to_have_text("0")

    await row.get_by_role("button", name=f"Members of {name}").click()
    panel = page.get_by_role("dialog", name=f"Members of {name}")
    await panel.get_by_role("searchbox", name="Search users to add").fill(member)
    await panel.get_by_role("button", name=f"Add {member}").click()
    await expect(panel.locator(f'[data-testid="member-row"][data-username="{member}"]')).to_be_visible()
    await expect(row.get_by_test_id("group-member-count")).to_have_text("1")
    await page.screenshot(path=artifacts / f"group-members-{engine_name}.png", full_page=True)
    await panel.get_by_role("button", name="Close").click()
    await expect(panel).to_be_hidden()
    await page.screenshot(path=artifacts / f"groups-{engine_name}.png", full_page=True)
    assert problems == []


async def test_superadmin_creates_and_suspends_a_tenant(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """A new tenant is suspended, never the admin's own (which has no Suspend button)."""
    page = admin_page
    problems = collect_problems(page)
    slug = _unique("e2e-tenant")
    await page.goto(server.url + "/admin")
    await page.get_by_role("navigation", name="Admin").get_by_role("link", name="Tenants").click()
    await expect(page).to_have_url(server.url + "/admin/tenants")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tenants")
    own = page.locator('[data-testid="tenant-row"]', has_text="(yours)")
    await expect(own).to_have_count(1)
    await expect(own.get_by_role("button", name="Suspend")).to_have_count(0)

    await page.get_by_role("button", name="New tenant").click()
    dialog = page.get_by_role("dialog", name="New tenant")
    await dialog.get_by_label("Name").fill(f"Tenant {slug}")
    await dialog.get_by_label("Slug").fill(slug)
    await dialog.get_by_role("button", name="Create tenant").click()
    await expect(dialog).to_be_hidden()
    row = page.locator(f'[data-testid="tenant-row"][data-slug="{slug}"]')
    await expect(row.get_by_test_id("tenant-status")).to_have_text("Active")

    await row.get_by_role("button", name=f"Suspend {slug}").click()
    confirm = page.get_by_role("dialog", name=f"Suspend Tenant {slug}?")
    await confirm.get_by_role("button", name="Suspend").click()
    await expect(confirm).to_be_hidden()
    await expect(row.get_by_test_id("tenant-status")).to_have_text("Suspended")
    await expect(page.get_by_role("status")).to_contain_text(f"Tenant {slug} is suspended.")
    await page.screenshot(path=artifacts / f"tenants-{engine_name}.png", full_page=True)

    await row.get_by_role("button", name=f"Delete {slug}").click()
    delete = page.get_by_role("dialog", name=f"Delete Tenant {slug}?")
    await expect(delete.get_by_role("button", name="Delete tenant")).to_be_disabled()
    await delete.get_by_label(f"Type {slug} to confirm").fill(slug)
    await delete.get_by_role("button", name="Delete tenant").click()
    await expect(delete).to_be_hidden()
    await expect(row).to_have_count(0)
    assert problems == []


async def test_admin_changes_a_users_roles_in_the_edit_dialog(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a new member WHEN the admin swaps their roles and email in the Edit dialog THEN the row shows the new
    chips, and the new address as pending until its mailbox confirms it."""
    page = admin_page
    problems = collect_problems(page)
    member = _unique("e2e")
    await _create_user(page, server, member)
    row = await _find_user_row(page, member)
    chips = row.get_by_role("list", name=f"Roles of {member}").get_by_role("listitem")
    await expect(chips).to_have_text(["member"])
    await expect(row.get_by_test_id("email-unconfirmed")).to_have_text("Unconfirmed")

    await row.get_by_role("button", name=f"Edit {member}").click()
    dialog = page.get_by_role("dialog", name=f"Edit {member}")
    await expect(dialog.get_by_label("Display name")).to_have_value(f"Test {member}")
    await expect(dialog.get_by_label("Email")).to_have_value(f"{member}@example.com")
    await expect(dialog).to_contain_text("Not confirmed yet")
    await expect(dialog.get_by_role("checkbox", name="member", exact=True)).to_be_checked()
    await dialog.get_by_label("Display name").fill(f"Renamed {member}")
    await dialog.get_by_label("Email").fill(f"{member}@moved.example.com")
    await dialog.get_by_role("checkbox", name="member", exact=True).uncheck()
    await dialog.get_by_role("checkbox", name="viewer", exact=True).check()
    await dialog.get_by_role("checkbox", name="admin", exact=True).check()
    await page.screenshot(path=artifacts / f"user-edit-dialog-{engine_name}.png", full_page=True)
    await dialog.get_by_role("button", name="Save user").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text(f"{member} was saved.")
    await expect(page.get_by_role("status")).to_contain_text(f"A confirmation link went to {member}@moved.example.com")
    await expect(chips).to_have_text(["admin", "viewer"])
    await expect(row).to_contain_text(f"Renamed {member}")
    await expect(row).to_contain_text(f"{member}@example.com")
    await expect(row.get_by_test_id("email-pending")).to_have_text(f"Pending confirmation: {member}@moved.example.com")
    await page.screenshot(path=artifacts / f"users-roles-{engine_name}.png", full_page=True)
    assert problems == []


async def test_role_the_admin_does_not_hold_is_refused_with_the_reason(
    browser: Browser, admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a tenant admin (not a super-admin) WHEN they give someone the owner role THEN the dialog shows why not."""
    page = admin_page
    admin = _unique("e2e-admin")
    dialog = await _open_new_user_dialog(page, server)
    await dialog.get_by_label("Username").fill(admin)
    await dialog.get_by_label("Password").fill(STRONG_PASSWORD)
    await dialog.get_by_role("checkbox", name="admin").check()
    await dialog.get_by_role("button", name="Create user").click()
    await expect(dialog).to_be_hidden()

    context = await signed_in_context(browser, server, admin, STRONG_PASSWORD)
    try:
        tab = await context.new_page()
        problems = collect_problems(tab)
        await tab.goto(server.url + "/admin/users")
        row = await _find_user_row(tab, admin)
        await row.get_by_role("button", name=f"Edit {admin}").click()
        edit = tab.get_by_role("dialog", name=f"Edit {admin}")
        await edit.get_by_role("checkbox", name="owner", exact=True).check()
        await edit.get_by_role("button", name="Save user").click()
        await expect(edit.get_by_test_id("edit-user-error")).to_contain_text("You cannot grant permissions you do not hold")
        await expect(edit).to_be_visible()
        await tab.screenshot(path=artifacts / f"user-edit-refused-{engine_name}.png", full_page=True)
        await edit.get_by_role("button", name="Cancel").click()
        await expect(row.get_by_role("list", name=f"Roles of {admin}").get_by_role("listitem")).to_have_text(["admin", "member"])
        # The refused PATCH is the only failed request; the browser logs its 403 on the console.
        assert [problem for problem in problems if "403" not in problem] == []
    finally:
        await context.close()


async def test_group_is_renamed_and_its_roles_changed(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    page = admin_page
    problems = collect_problems(page)
    name = _unique("e2e-group")
    renamed = _unique("e2e-renamed")
    await page.goto(server.url + "/admin/groups")
    await page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    await dialog.get_by_label("Name").fill(name)
    await dialog.get_by_role("checkbox", name="viewer", exact=True).check()
    await dialog.get_by_role("button", name="Create group").click()
    await expect(dialog).to_be_hidden()
    row = page.locator(f'[data-testid="group-row"][data-name="{name}"]')
    await expect(row).to_contain_text("viewer")

    await row.get_by_role("button", name=f"Edit {name}").click()
    edit = page.get_by_role("dialog", name=f"Edit {name}")
    await expect(edit.get_by_label("Name")).to_have_value(name)
    await expect(edit.get_by_role("checkbox", name="viewer", exact=True)).to_be_checked()
    await edit.get_by_label("Name").fill(renamed)
    await edit.get_by_label("Description").fill("People who work here")
    await edit.get_by_role("checkbox", name="viewer", exact=True).uncheck()
    await edit.get_by_role("checkbox", name="member", exact=True).check()
    await page.screenshot(path=artifacts / f"group-edit-dialog-{engine_name}.png", full_page=True)
    await edit.get_by_role("button", name="Save group").click()
    await expect(edit).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text(f"The group {renamed} was saved.")
    await expect(row).to_have_count(0)
    moved = page.locator(f'[data-testid="group-row"][data-name="{renamed}"]')
    await expect(moved).to_contain_text("People who work here")
    await expect(moved.get_by_role("cell").nth(1)).to_have_text("member")
    await page.screenshot(path=artifacts / f"groups-edited-{engine_name}.png", full_page=True)
    assert problems == []
