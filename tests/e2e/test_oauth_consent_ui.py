"""Sign in to an app with Nubes in the browser: the app sends the user to /oauth/authorize, Nubes asks them to sign
in, shows the consent screen with the scopes in plain words, and Allow sends them back to the app with a code the app
redeems (PKCE). The account page then lists the app under Connected apps; admins see it under OAuth clients."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636.challenge import create_s256_code_challenge
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from tests.e2e.browsing import VIEWPORT, collect_problems, sign_in
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e]

PASSWORD = "Copper-lantern-meadow-river-27"
REDIRECT = "http://127.0.0.1:9/callback"


def _create_member(server: Server) -> str:
    username = f"e2e-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{server.url}/api/admin/users",
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    response.raise_for_status()
    return username


def _create_client(server: Server) -> dict[str, str]:
    response = httpx.post(
        f"{server.url}/api/oauth/clients",
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        json={"name": "Photo Journal", "redirect_uris": [REDIRECT], "scopes": ["openid", "profile", "files:read"]},
    )
    response.raise_for_status()
    created: dict[str, str] = response.json()
    return created


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    fresh = await browser.new_context(viewport=VIEWPORT)
    yield fresh
    await fresh.close()


async def test_the_consent_screen_shows_the_scopes_and_allow_completes_the_sign_in(
    context: BrowserContext, page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    username = _create_member(server)
    client = _create_client(server)
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(8)
    query = {
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT, "scope": "openid profile files:read",
        "state": state, "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256",
    }  # fmt: skip
    tab = await context.new_page()
    problems = collect_problems(tab)
    landed: list[str] = []

    async def app_callback(route: Route) -> None:
        landed.append(route.request.url)
        await route.fulfill(body="Photo Journal: you are in", content_type="text/plain")

    await tab.route(f"{REDIRECT}**", app_callback)
    await tab.goto(f"{server.url}/oauth/authorize?{urlencode(query)}")
    await sign_in(tab, username, PASSWORD)  # not signed in: the sign-in page first, then back to authorize
    await expect(tab.get_by_test_id("oauth-consent-question")).to_have_text("Allow Photo Journal to use your account?")
    scopes = tab.get_by_test_id("oauth-consent-scopes")
    await expect(scopes.get_by_text("Sign you in with your Nubes account")).to_be_visible()
    await expect(scopes.get_by_text("files:read")).to_be_visible()
    await tab.screenshot(path=artifacts / f"oauth-consent-{engine_name}.png")

    await tab.get_by_role("button", name="Allow").click()
    await tab.wait_for_url(f"{REDIRECT}**")
    await expect(tab.get_by_text("Photo Journal: you are in")).to_be_visible()
    returned = parse_qs(urlsplit(landed[-1]).query)
    assert returned["state"] == [state]
    async with httpx.AsyncClient() as http:
        token = await http.post(
            f"{server.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": returned["code"][0],
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(client["client_id"], client["client_secret"]),
        )
    assert token.status_code == 200, token.text
    assert "id_token" in token.json()

    await tab.goto(f"{server.url}/account")
    connected = tab.get_by_test_id("connected-app")
    await expect(connected).to_contain_text("Photo Journal")
    await connected.scroll_into_view_if_needed()
    await tab.screenshot(path=artifacts / f"oauth-connected-apps-{engine_name}.png", full_page=True)
    assert not problems, problems

    await page.goto(f"{server.url}/admin/oauth-clients")
    await expect(page.get_by_test_id("oauth-client-row").filter(has_text="Photo Journal").first).to_be_visible()
    await page.screenshot(path=artifacts / f"oauth-clients-admin-{engine_name}.png", full_page=True)
