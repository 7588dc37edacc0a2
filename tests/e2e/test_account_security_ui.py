"""Account security in the browser: two-factor sign-in with an authenticator app, passkeys, and the public pages.

Codes come from pyotp with the secret the page shows, as an authenticator app would compute them.
Passkeys use Chromium's virtual authenticator (DevTools `WebAuthn` domain). WebAuthn refuses an IP
address as relying party, so the passkey test opens the server as `localhost`, not `127.0.0.1`.
Each test makes its own user through the admin API and never touches the admin's own sign-in.
Sign-in counts as a fresh proof of identity (sudo mode); to see the "Confirm it's you" prompt, a test ages
its user's sessions in the server's database, as if they had signed in long ago.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from nubes.core.db import utcnow
from nubes.identity.sessions.cache import GLOBAL, RedisGenerations
from nubes.identity.sessions.models import Session
from nubes.identity.users.models import User
from tests.e2e.browsing import VIEWPORT, collect_problems, sign_in
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

PASSWORD = "Quiet-lantern-orbit-meadow-58"


def _localhost(server: Server) -> str:
    """The server's URL with `localhost` as host: a name WebAuthn accepts as relying party id."""
    return f"http://localhost:{urlsplit(server.url).port}"


def _create_member(server: Server) -> str:
    """A new member of the default tenant, made by the admin through the API; returns the username."""
    username = f"e2e-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{server.url}/api/admin/users",
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        json={"username": username, "email": f"{username}@example.com", "display_name": f"Test {username}", "password": PASSWORD},
    )
    response.raise_for_status()
    return username


async def _age_reauthentication(server: Server, database_url: str, username: str) -> None:
    """As if `username` had signed in (and last confirmed it's them) an hour ago: past any sudo window.

    A change made by hand, outside Nubes: the server's cached callers are dropped through Redis afterwards.
    """
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            user_ids = select(User.id).where(User.username == username).scalar_subquery()
            stale = utcnow() - timedelta(hours=1)
            await connection.execute(update(Session).where(Session.user_id == user_ids).values(reauthenticated_at=stale))
    finally:
        await engine.dispose()
    generations = RedisGenerations(server.redis_url)
    try:
        await generations.bump([GLOBAL])
    finally:
        await generations.close()


def _unexpected(problems: list[str]) -> list[str]:
    """Problems other than the 401 the first sign-in step answers by design when a code is needed, and the
    403s that ask to confirm it's you (answered by the prompt, then retried)."""
    return [problem for problem in problems if "status of 401" not in problem and "status of 403" not in problem]


async def _assert_no_token_in_storage(page: Page) -> None:
    stored = await page.evaluate("JSON.stringify(localStorage)+JSON.stringify(sessionStorage)")
    assert "eyJ" not in stored
    assert "nbr_" not in stored


async def _sign_out(page: Page, base: str) -> None:
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("account-menu-panel").get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(base + "/login")


async def _open_account(page: Page) -> None:
    """Through the account menu, as a person would (a full reload would cut the shell's status polls short)."""
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("account-menu-panel").get_by_role("link", name="Account").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Account")


async def _password_step(page: Page, username: str) -> None:
    await page.get_by_label("Username or email").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A browser profile that has never signed in."""
    fresh = await browser.new_context(viewport=VIEWPORT)
    yield fresh
    await fresh.close()


async def test_two_factor_sign_in_with_an_authenticator_app(
    context: BrowserContext, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a member WHEN they turn on two-factor sign-in THEN signing in asks for a code, and a recovery code works once."""
    username = _create_member(server)
    page = await context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/login?next=%2Faccount")
    await sign_in(page, username, PASSWORD)
    await expect(page).to_have_url(server.url + "/account")

    await expect(page.get_by_test_id("totp-status")).to_have_text("Off")
    await page.get_by_role("button", name="Set up two-factor sign-in").click()
    dialog = page.get_by_role("dialog", name="Set up two-factor sign-in")
    await expect(dialog.get_by_role("img", name="QR code to add Nubes to an authenticator app")).to_be_visible()
    secret = await dialog.get_by_test_id("totp-secret").get_attribute("data-secret")
    assert secret
    totp = pyotp.TOTP(secret)
    await expect(dialog.get_by_label("6-digit code")).to_be_focused()
    await page.screenshot(path=artifacts / f"totp-setup-{engine_name}.png")
    await dialog.get_by_label("6-digit code").fill(totp.now())
    await dialog.get_by_role("button", name="Turn on").click()

    codes_dialog = page.get_by_role("dialog", name="Your recovery codes")
    await expect(codes_dialog.get_by_test_id("recovery-code")).to_have_count(10)
    recovery_codes = await codes_dialog.get_by_test_id("recovery-code").all_inner_texts()
    download = codes_dialog.get_by_role("link", name="Download .txt")
    assert await download.get_attribute("download") == "nubes-recovery-codes.txt"
    await page.screenshot(path=artifacts / f"totp-recovery-codes-{engine_name}.png")
    await codes_dialog.get_by_role("button", name="I have saved them").click()
    await expect(codes_dialog).to_be_hidden()
    await expect(page.get_by_test_id("totp-status")).to_have_text("On")
    await expect(page.get_by_test_id("recovery-codes-left")).to_have_text("10 recovery codes left.")
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=artifacts / f"account-security-{engine_name}.png", full_page=True)

    # Password, then the next 30-second step's code: the one used to confirm may not be replayed.
    await _sign_out(page, server.url)
    await _password_step(page, username)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    code_input = page.get_by_label("Authentication code")
    await expect(code_input).to_be_focused()
    await expect(code_input).to_have_attribute("autocomplete", "one-time-code")
    await expect(code_input).to_have_attribute("inputmode", "numeric")
    await page.screenshot(path=artifacts / f"login-totp-{engine_name}.png", full_page=True)
    await code_input.fill("000000" if totp.now() != "000000" else "111111")
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_test_id("login-error")).to_contain_text("That code is not right")
    await code_input.fill(totp.at(time.time() + totp.interval))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_test_id("account-menu")).to_be_visible()
    await _assert_no_token_in_storage(page)

    # A recovery code instead of the app.
    await _sign_out(page, server.url)
    await _password_step(page, username)
    await page.get_by_role("button", name="Use a recovery code instead").click()
    await page.get_by_label("Recovery code").fill(recovery_codes[0])
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_test_id("account-menu")).to_be_visible()
    await _open_account(page)
    await expect(page.get_by_test_id("recovery-codes-left")).to_have_text("9 recovery codes left.")
    assert _unexpected(problems) == []


async def test_an_email_change_by_an_admin_shows_as_pending_on_the_account_page(
    context: BrowserContext, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a member whose address an admin changed WHEN they open their account THEN the old address is still
    theirs, the new one shows as pending confirmation, and they can have its link sent again."""
    username = _create_member(server)
    moved = f"{username}@moved.example.com"
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token()}"}) as admin:
        found = (await admin.get("/api/admin/users", params={"q": username})).json()["items"][0]
        (await admin.patch(f"/api/admin/users/{found['id']}", json={"email": moved})).raise_for_status()
    page = await context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/login?next=%2Faccount")
    await sign_in(page, username, PASSWORD)
    await expect(page).to_have_url(server.url + "/account")
    await expect(page.get_by_test_id("account-email")).to_contain_text(f"{username}@example.com")
    pending = page.get_by_test_id("account-email-pending")
    await expect(pending).to_contain_text(moved)
    await expect(pending).to_contain_text("Pending confirmation")
    await pending.get_by_role("button", name="Send the link again").click()
    await expect(pending.get_by_role("status")).to_have_text(f"Link sent to {moved}.")
    await page.screenshot(path=artifacts / f"account-email-pending-{engine_name}.png", full_page=True)
    assert _unexpected(problems) == []


async def test_passkey_sign_in_with_a_virtual_authenticator(
    context: BrowserContext, server: Server, server_database_url: str, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a member who added a passkey WHEN they sign out THEN the passkey button alone signs them in again."""
    username = _create_member(server)
    base = _localhost(server)
    page = await context.new_page()
    problems = collect_problems(page)
    devtools = await context.new_cdp_session(page)
    await devtools.send("WebAuthn.enable", {"enableUI": False})
    await devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    await page.goto(base + "/login?next=%2Faccount")
    await sign_in(page, username, PASSWORD)
    await expect(page).to_have_url(base + "/account")
    await expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    await page.get_by_role("button", name="Add a passkey").click()
    dialog = page.get_by_role("dialog", name="Add a passkey")
    await dialog.get_by_label("Name").fill("Test laptop")
    await page.screenshot(path=artifacts / f"passkey-add-{engine_name}.png")
    await dialog.get_by_role("button", name="Create passkey").click()
    await expect(dialog).to_be_hidden()
    row = page.locator('[data-testid="passkey-row"][data-name="Test laptop"]')
    await expect(row).to_contain_text("Last used never")

    await row.get_by_role("button", name="Rename Test laptop").click()
    rename = page.get_by_role("dialog", name="Rename passkey")
    await rename.get_by_label("Name").fill("Work laptop")
    await rename.get_by_role("button", name="Save").click()
    await expect(page.locator('[data-testid="passkey-row"][data-name="Work laptop"]')).to_be_visible()
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=artifacts / f"passkeys-{engine_name}.png", full_page=True)

    await _sign_out(page, base)
    await page.screenshot(path=artifacts / f"login-passkey-button-{engine_name}.png", full_page=True)
    await page.get_by_role("button", name="Continue with a passkey").click()
    await expect(page.get_by_test_id("account-menu")).to_be_visible()
    await _assert_no_token_in_storage(page)
    await _open_account(page)
    await expect(page.get_by_test_id("account-username")).to_have_text(f"@{username}")
    row = page.locator('[data-testid="passkey-row"][data-name="Work laptop"]')
    await expect(row).not_to_contain_text("Last used never")

    # Signed in a while ago: removing a passkey asks to confirm it's you, and the passkey itself may.
    await _age_reauthentication(server, server_database_url, username)
    await row.get_by_role("button", name="Remove Work laptop").click()
    await page.get_by_role("dialog", name="Remove Work laptop?").get_by_role("button", name="Remove").click()
    confirm = page.get_by_role("dialog", name="Confirm it's you")
    await expect(confirm).to_be_visible()
    await confirm.get_by_role("button", name="Use a passkey").click()
    await expect(confirm).to_be_hidden()
    await expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    assert _unexpected(problems) == []


async def test_a_credential_change_asks_to_confirm_its_you(
    context: BrowserContext, server: Server, server_database_url: str, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a member signed in long ago WHEN they set up two-factor sign-in THEN the page asks for their
    password first, refuses a wrong one, and goes on with the setup once it is right."""
    username = _create_member(server)
    page = await context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/login?next=%2Faccount")
    await sign_in(page, username, PASSWORD)
    await expect(page).to_have_url(server.url + "/account")
    await _age_reauthentication(server, server_database_url, username)

    await page.get_by_role("button", name="Set up two-factor sign-in").click()
    confirm = page.get_by_role("dialog", name="Confirm it's you")
    await expect(confirm).to_be_visible()
    await expect(confirm.get_by_label("Password")).to_be_focused()
    await expect(confirm.get_by_role("button", name="Use a passkey")).to_have_count(0)  # this member has none
    await confirm.get_by_label("Password").fill("not-my-password")
    await confirm.get_by_role("button", name="Confirm").click()
    await expect(confirm.get_by_role("alert")).to_contain_text("did not confirm it's you")
    await confirm.get_by_label("Password").fill(PASSWORD)
    await page.screenshot(path=artifacts / f"sudo-dialog-{engine_name}.png")
    await confirm.get_by_role("button", name="Confirm").click()
    await expect(confirm).to_be_hidden()
    # The setup that asked goes on by itself.
    await expect(page.get_by_role("dialog", name="Set up two-factor sign-in")).to_be_visible()
    await page.get_by_role("dialog", name="Set up two-factor sign-in").get_by_role("button", name="Cancel").click()

    # Cancelling the prompt cancels the change, with the reason shown.
    await _age_reauthentication(server, server_database_url, username)
    await page.get_by_role("button", name="Set up two-factor sign-in").click()
    await expect(confirm).to_be_visible()
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_be_hidden()
    await expect(page.get_by_role("dialog", name="Set up two-factor sign-in")).to_have_count(0)
    await expect(page.get_by_text("Confirm it's you", exact=False).first).to_be_visible()
    assert _unexpected(problems) == []


async def test_public_pages_render_without_signing_in(
    context: BrowserContext, server: Server, artifacts: Path, engine_name: str
) -> None:
    """Sign-up (closed by default), forgot password, and the mailed-link pages with a missing or bad token."""
    page = await context.new_page()
    problems = collect_problems(page)
    # Leaving the page before the sign-in options arrive would cancel that request (a "failed request").
    async with page.expect_response("**/api/auth/options"):
        await page.goto(server.url + "/login")
    await expect(page.get_by_role("link", name="Create an account")).to_have_count(0)
    await page.get_by_role("link", name="Forgot password?").click()
    await expect(page).to_have_url(server.url + "/forgot-password")
    await page.get_by_label("Email").fill("nobody@example.com")
    await page.get_by_role("button", name="Send reset link").click()
    await expect(page.get_by_test_id("reset-requested")).to_contain_text("nobody@example.com")
    await page.screenshot(path=artifacts / f"forgot-password-{engine_name}.png", full_page=True)

    await page.goto(server.url + "/register")
    await expect(page.get_by_role("main")).to_contain_text("Sign-up is closed on this server.")

    await page.goto(server.url + "/reset-password#token=not-a-real-token-0123456789")
    await expect(page).to_have_url(server.url + "/reset-password")
    await page.get_by_label("New password", exact=True).fill(PASSWORD)
    await page.get_by_label("Confirm new password").fill(PASSWORD)
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_test_id("reset-error")).to_be_visible()
    await page.screenshot(path=artifacts / f"reset-password-{engine_name}.png", full_page=True)

    await page.goto(server.url + "/verify-email#token=not-a-real-token-0123456789")
    await expect(page.get_by_test_id("verify-error")).to_be_visible()
    await expect(page.get_by_role("link", name="Go to sign in")).to_be_visible()
    await page.screenshot(path=artifacts / f"verify-email-{engine_name}.png", full_page=True)

    await page.goto(server.url + "/verify-email")
    await expect(page.get_by_role("main")).to_contain_text("This link is incomplete")
    # The bad tokens are refused with 4xx by design; nothing else may fail.
    assert [problem for problem in problems if "status of 4" not in problem] == []


async def test_super_admin_opens_registration_and_a_visitor_signs_up(
    context: BrowserContext, browser: Browser, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN the admin turns sign-up on WHEN a visitor creates an account THEN they are told to confirm their email."""
    admin = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await admin.new_page()
        await page.goto(server.url + "/login?next=%2Fadmin%2Fregistration")
        await sign_in(page, server.admin_username, server.admin_password)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Registration")
        toggle = page.get_by_role("switch", name="Let people create their own account")
        await expect(toggle).not_to_be_checked()
        await toggle.check()
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_contain_text("Saved.")
        await page.screenshot(path=artifacts / f"admin-registration-{engine_name}.png", full_page=True)

        try:
            visitor = await context.new_page()
            await visitor.goto(server.url + "/login")
            await visitor.get_by_role("link", name="Create an account").click()
            await expect(visitor).to_have_url(server.url + "/register")
            username = f"e2e-{secrets.token_hex(4)}"
            await visitor.get_by_label("Username").fill(username)
            await visitor.get_by_label("Email").fill(f"{username}@example.com")
            await visitor.get_by_label("Password", exact=True).fill("password1234")
            await visitor.get_by_label("Confirm password").fill("password1234")
            await visitor.get_by_role("button", name="Create account").click()
            # The policy's reason shows under the password field.
            await expect(visitor.get_by_role("textbox", name="Password", exact=True)).to_have_attribute("aria-invalid", "true")
            await visitor.screenshot(path=artifacts / f"register-policy-{engine_name}.png", full_page=True)
            await visitor.get_by_label("Password", exact=True).fill(PASSWORD)
            await visitor.get_by_label("Confirm password").fill(PASSWORD)
            await visitor.get_by_role("button", name="Create account").click()
            await expect(visitor.get_by_test_id("register-done")).to_contain_text(f"{username}@example.com")
            await visitor.screenshot(path=artifacts / f"register-done-{engine_name}.png", full_page=True)

            # Verification is required by default: the password is right, the address is not confirmed yet.
            await visitor.get_by_role("link", name="Go to sign in").click()
            await _password_step(visitor, username)
            await expect(visitor.get_by_test_id("login-error")).to_be_visible()
            await visitor.get_by_label("Your email address").fill(f"{username}@example.com")
            await visitor.get_by_role("button", name="Send the link again").click()
            await expect(visitor.get_by_test_id("verification-sent")).to_be_visible()
            await visitor.screenshot(path=artifacts / f"login-unverified-{engine_name}.png", full_page=True)
        finally:
            await page.get_by_role("switch", name="Let people create their own account").uncheck()
            await page.get_by_role("button", name="Save").click()
            await expect(page.get_by_role("status")).to_contain_text("Only admins create accounts now.")
    finally:
        await admin.close()
