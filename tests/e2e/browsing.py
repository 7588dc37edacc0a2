"""What the browser tests share: the window size, signing in through the login page, and the problems a page reports."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Request, ViewportSize, expect

from tests.serving import Server

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"


def collect_problems(page: Page) -> list[str]:
    """Console errors (a CSP violation shows up here) and failed requests.

    A status poll the page cancels when it navigates away (the overview's, on a loaded machine still in
    flight when the test opens Status) fails with net::ERR_ABORTED: that is the page's own doing, not a failure.
    Chromium drops what is in flight with net::ERR_NETWORK_CHANGED when the machine's interfaces change — Docker
    adding or removing a container's bridge for a test running beside this one (CI, 2026-12-07): the machine's doing.
    """
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and NETWORK_CHANGED not in message.text:
            problems.append(f"console: {message.text}")

    def on_failed(request: Request) -> None:
        if request.failure not in {"net::ERR_ABORTED", NETWORK_CHANGED}:
            problems.append(f"request failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    return problems


async def sign_in(page: Page, username: str, password: str) -> None:
    """Fill in the sign-in form the way a person does and wait until the app has let them in."""
    await page.get_by_label("Username or email").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("account-menu")).to_be_visible()


async def signed_in_context(browser: Browser, server: Server, username: str, password: str) -> BrowserContext:
    """A fresh browser profile that signed in through /login (its cookies hold the session, nothing else does)."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await page.goto(server.url + "/login")
    await sign_in(page, username, password)
    await page.close()
    return context
