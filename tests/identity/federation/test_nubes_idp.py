"""Nubes as relying party against Nubes as identity provider: two real `nubes serve` processes, no stand-in.

The IdP gets an OAuth client (its admin API) and a user; the RP gets a provider pointing at the IdP's issuer. A
browser is played by two cookie jars (one per site, as a browser keeps them) following the redirects by hand:
RP button → IdP authorize (signed in there) → IdP consent → RP callback. The user lands signed in on the RP,
provisioned just in time; the second sign-in reuses the link.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from tests.conftest import empty_database
from tests.serving import Server, serve

PASSWORD = "Quartz-Harbor-Lantern-58"


@pytest.fixture(scope="module")
async def database_urls(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, str]]:
    """An empty database for each server: they are two installs."""
    async with (
        empty_database(engine_name, tmp_path_factory.mktemp("idp-db") / "nubes.db") as idp_url,
        empty_database(engine_name, tmp_path_factory.mktemp("rp-db") / "nubes.db") as rp_url,
    ):
        yield idp_url, rp_url


@pytest.fixture(scope="module")
def servers(database_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """The identity provider and the relying party."""
    with contextlib.ExitStack() as stack:
        idp = stack.enter_context(serve(database_urls[0], tmp_path_factory.mktemp("idp")))
        rp = stack.enter_context(serve(database_urls[1], tmp_path_factory.mktemp("rp")))
        yield idp, rp


def _bearer(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_token()}"}


def _configure(idp: Server, rp: Server) -> None:
    """On the IdP: a user and an OAuth client for the RP. On the RP: the provider, just-in-time into its tenant."""
    idp_admin = _bearer(idp)
    made = httpx.post(
        f"{idp.url}/api/admin/users",
        json={"username": "ada", "email": "ada@example.test", "password": PASSWORD, "display_name": "Ada Lovelace"},
        headers=idp_admin,
    )
    assert made.status_code == 201, made.text
    client = httpx.post(
        f"{idp.url}/api/oauth/clients",
        json={
            "name": "Nubes RP",
            "redirect_uris": [f"{rp.url}/api/auth/providers/other-nubes/callback"],
            "scopes": ["openid", "profile", "email"],
            "grant_types": ["authorization_code", "refresh_token"],
            "confidential": True,
            "first_party": False,
        },
        headers=idp_admin,
    )
    assert client.status_code == 201, client.text
    rp_admin = _bearer(rp)
    tenant_id = httpx.get(f"{rp.url}/api/users/me", headers=rp_admin).json()["tenant"]["id"]
    provider = httpx.post(
        f"{rp.url}/api/admin/identity-providers",
        json={
            "slug": "other-nubes",
            "name": "Other Nubes",
            "issuer": idp.url,
            "client_id": client.json()["client_id"],
            "client_secret": client.json()["client_secret"],
            "allowed_tenant_ids": [tenant_id],
            "jit_provisioning": True,
        },
        headers=rp_admin,
    )
    assert provider.status_code == 201, provider.text
    found = httpx.post(f"{rp.url}/api/admin/identity-provider-discovery", json={"issuer": idp.url}, headers=rp_admin)
    assert found.json()["ok"] is True, found.text


def _sign_in_through_idp(idp: Server, rp: Server) -> httpx.Client:
    """One browser: signed in at the IdP, it presses the RP's button and consents; its RP cookie jar, signed in."""
    at_idp = httpx.Client(base_url=idp.url)
    at_rp = httpx.Client(base_url=rp.url)
    assert at_idp.post("/api/auth/login", json={"username": "ada", "password": PASSWORD}).status_code == 200
    start = at_rp.get("/api/auth/providers/other-nubes/start", params={"next": "/files"})
    assert start.status_code == 302, start.text
    assert start.headers["location"].startswith(f"{idp.url}/oauth/authorize?")
    answer = at_idp.get(start.headers["location"])
    assert answer.status_code == 303, answer.text
    back = urljoin(idp.url, answer.headers["location"])
    if urlsplit(back).path == "/oauth/consent":
        request_id = parse_qs(urlsplit(back).query)["request"][0]
        shown = at_idp.get(f"/api/oauth/requests/{request_id}")
        assert shown.status_code == 200, shown.text
        approved = at_idp.post(
            f"/api/oauth/requests/{request_id}/approve",
            headers={"X-CSRF-Token": at_idp.cookies["nubes_csrf"], "Origin": idp.url},
        )
        assert approved.status_code == 200, approved.text
        back = approved.json()["redirect_to"]
    assert back.startswith(f"{rp.url}/api/auth/providers/other-nubes/callback?"), back
    landed = at_rp.get(back)
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"] == "/files", landed.headers
    at_idp.close()
    return at_rp


def test_nubes_signs_in_through_another_nubes(servers: tuple[Server, Server]) -> None:
    """GIVEN a user of Nubes A (IdP) and Nubes B (RP) trusting A WHEN the user signs in to B through A twice
    THEN B made one account (JIT) and both sign-ins land on B signed in as it."""
    idp, rp = servers
    _configure(idp, rp)
    browser = _sign_in_through_idp(idp, rp)
    with contextlib.closing(browser):
        me = browser.get("/api/users/me")
        assert me.status_code == 200, me.text
        first = me.json()["user"]
        assert first["username"] == "ada"
        assert first["email"] == "ada@example.test"
        linked = browser.get("/api/users/me/sign-in-providers").json()
        assert [(row["slug"], row["linked"]) for row in linked] == [("other-nubes", True)]
    again = _sign_in_through_idp(idp, rp)
    with contextlib.closing(again):
        assert again.get("/api/users/me").json()["user"]["id"] == first["id"]
    people = httpx.get(f"{rp.url}/api/admin/users", params={"q": "ada"}, headers=_bearer(rp)).json()
    assert [user["username"] for user in people["items"]] == ["ada"]
