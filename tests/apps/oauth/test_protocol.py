"""The OAuth2 / OpenID Connect provider against a real `nubes serve`, driven by authlib's OAuth2 client.

A browser (an httpx client keeping cookies) signs in and answers the consent screen's API; the app is authlib's
AsyncOAuth2Client with PKCE; ID tokens are verified with joserfc against the provider's JWKS.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636.challenge import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from tests.serving import Server, serve

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def idp(server_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Nubes serving as the identity provider."""
    with serve(server_database_url, tmp_path_factory.mktemp("idp")) as server:
        yield server


@dataclass
class Browser:
    """A signed-in browser: its cookies, and the headers of a same-origin write."""

    http: httpx.AsyncClient
    writes: dict[str, str]


@pytest.fixture
async def browser(idp: Server) -> AsyncIterator[Browser]:
    async with httpx.AsyncClient(base_url=idp.url) as http:
        signed_in = await http.post("/api/auth/login", json={"username": idp.admin_username, "password": idp.admin_password})
        assert signed_in.status_code == 200, signed_in.text
        yield Browser(http, {"Origin": idp.url, "X-CSRF-Token": http.cookies["nubes_csrf"]})


async def make_client(browser: Browser, **fields: Any) -> dict[str, Any]:
    body = {"name": "Notes", "redirect_uris": [REDIRECT], "scopes": ["openid", "profile", "email", "files:read"], **fields}
    created = await browser.http.post("/api/oauth/clients", json=body, headers=browser.writes)
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


def oauth_client(idp: Server, client: dict[str, Any], **extra: Any) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client["client_id"],
        client_secret=client.get("client_secret"),
        redirect_uri=REDIRECT,
        scope="openid profile email files:read",
        code_challenge_method="S256",
        base_url=idp.url,
        **extra,
    )


async def authorize(browser: Browser, url: str) -> str:
    """Follow an authorization URL as the user, allowing on the consent screen: the redirect back to the app."""
    first = await browser.http.get(url)
    assert first.status_code == 303, first.text
    location = first.headers["location"]
    if location.startswith("/oauth/consent"):
        request_id = parse_qs(urlsplit(location).query)["request"][0]
        shown = await browser.http.get(f"/api/oauth/requests/{request_id}")
        assert shown.status_code == 200, shown.text
        allowed = await browser.http.post(f"/api/oauth/requests/{request_id}/approve", headers=browser.writes)
        assert allowed.status_code == 200, allowed.text
        location = allowed.json()["redirect_to"]
    assert location.startswith(REDIRECT), location
    return str(location)


async def sign_in_app(idp: Server, browser: Browser, app: AsyncOAuth2Client) -> tuple[dict[str, Any], str]:
    """The whole code + PKCE flow: the token response and the nonce sent."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, _state = app.create_authorization_url(f"{idp.url}/oauth/authorize", code_verifier=verifier, nonce=nonce)
    back = await authorize(browser, url)
    token = await app.fetch_token(f"{idp.url}/oauth/token", authorization_response=back, code_verifier=verifier)
    return dict(token), nonce


async def keys(idp: Server) -> KeySet:
    async with httpx.AsyncClient() as http:
        discovery = (await http.get(f"{idp.url}/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == idp.url
        return KeySet.import_key_set((await http.get(discovery["jwks_uri"])).json())


async def test_code_with_pkce_signs_an_app_in_with_a_verified_id_token_and_userinfo(idp: Server, browser: Browser) -> None:
    client = await make_client(browser)
    async with oauth_client(idp, client) as app:
        token, nonce = await sign_in_app(idp, browser, app)
        assert token["access_token"].startswith("nbo_")
        assert set(token["scope"].split()) == {"openid", "profile", "email", "files:read"}
        claims = jwt.decode(token["id_token"], await keys(idp), algorithms=["EdDSA"]).claims
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": idp.url},
            aud={"essential": True, "value": client["client_id"]},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(claims)
        assert claims["preferred_username"] == idp.admin_username
        info = await app.get("/oauth/userinfo")
        assert info.status_code == 200, info.text
        assert info.json()["sub"] == claims["sub"]
        assert info.json()["preferred_username"] == idp.admin_username
        # A second sign-in within the consent goes straight back to the app.
        verifier = secrets.token_urlsafe(48)
        url, _ = app.create_authorization_url(f"{idp.url}/oauth/authorize", code_verifier=verifier)
        direct = await browser.http.get(url)
        assert direct.headers["location"].startswith(REDIRECT)
        # A tampered ID token does not verify.
        header, payload, signature = token["id_token"].split(".")
        forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
        with pytest.raises(BadSignatureError):
            jwt.decode(forged, await keys(idp), algorithms=["EdDSA"])


async def test_refresh_rotates_and_reusing_a_spent_one_revokes_the_family(idp: Server, browser: Browser) -> None:
    client = await make_client(browser)
    async with oauth_client(idp, client) as app:
        first, _ = await sign_in_app(idp, browser, app)
        second = await app.refresh_token(f"{idp.url}/oauth/token", refresh_token=first["refresh_token"])
        assert second["refresh_token"] != first["refresh_token"]
        fresh = {"Authorization": f"Bearer {second['access_token']}"}
        assert (await app.get("/api/files", headers=fresh)).status_code == 200
        async with httpx.AsyncClient(base_url=idp.url) as http:
            reused = await http.post(
                "/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                auth=(client["client_id"], client["client_secret"]),
            )
            assert reused.status_code == 400
            assert reused.json()["error"] == "invalid_grant"
            newest = await http.post(
                "/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
                auth=(client["client_id"], client["client_secret"]),
            )
            assert newest.status_code == 400  # the whole family ended
            assert (await http.get("/api/files", headers=fresh)).status_code == 401


async def test_an_app_token_is_never_more_than_its_scopes_and_revoking_the_app_stops_it(idp: Server, browser: Browser) -> None:
    client = await make_client(browser)
    async with oauth_client(idp, client) as app:
        token, _ = await sign_in_app(idp, browser, app)
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await app.get("/api/files", headers=bearer)).status_code == 200
        upload = await app.post("/api/files/upload", files={"file": ("a.txt", b"hello")}, headers=bearer)
        assert upload.status_code == 403
        assert "files.write" in upload.json()["detail"]
        assert (await app.get("/api/users/me/sessions", headers=bearer)).status_code == 403  # credentials: never
        connected = (await browser.http.get("/api/users/me/apps")).json()
        mine = next(row for row in connected if row["client_id"] == client["client_id"])
        assert {scope["scope"] for scope in mine["scopes"]} >= {"openid", "files:read"}
        revoked = await browser.http.delete(f"/api/users/me/apps/{mine['id']}", headers=browser.writes)
        assert revoked.status_code == 204
        assert (await app.get("/api/files", headers=bearer)).status_code == 401
    async with httpx.AsyncClient(base_url=idp.url) as http:
        refreshed = await http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert refreshed.json()["error"] == "invalid_grant"


async def test_bad_authorization_requests_are_refused(idp: Server, browser: Browser) -> None:
    confidential = await make_client(browser)
    public = await make_client(browser, confidential=False)
    base = {"response_type": "code", "scope": "openid", "state": "s1"}
    challenge = {"code_challenge": create_s256_code_challenge("v" * 50), "code_challenge_method": "S256"}
    for wrong in (REDIRECT + "/", "http://127.0.0.1:10/callback", "https://evil.example/callback"):
        answer = await browser.http.get(
            "/oauth/authorize", params={**base, **challenge, "client_id": confidential["client_id"], "redirect_uri": wrong}
        )
        assert answer.status_code == 400, f"{wrong}: {answer.status_code}"  # an error page, never a redirect
        assert "location" not in answer.headers
    unknown = await browser.http.get("/oauth/authorize", params={**base, "client_id": "nobody", "redirect_uri": REDIRECT})
    assert unknown.status_code == 400
    no_pkce = await browser.http.get(
        "/oauth/authorize", params={**base, "client_id": public["client_id"], "redirect_uri": REDIRECT}
    )
    assert no_pkce.status_code == 303
    assert parse_qs(urlsplit(no_pkce.headers["location"]).query)["error"] == ["invalid_request"]
    assert parse_qs(urlsplit(no_pkce.headers["location"]).query)["state"] == ["s1"]
    plain = {"code_challenge": "v" * 50, "code_challenge_method": "plain"}
    refused = await browser.http.get(
        "/oauth/authorize", params={**base, **plain, "client_id": public["client_id"], "redirect_uri": REDIRECT}
    )
    assert parse_qs(urlsplit(refused.headers["location"]).query)["error"] == ["invalid_request"]
    too_much = await browser.http.get(
        "/oauth/authorize",
        params={**base, **challenge, "scope": "openid files:write", "client_id": public["client_id"], "redirect_uri": REDIRECT},
    )
    assert parse_qs(urlsplit(too_much.headers["location"]).query)["error"] == ["invalid_scope"]
    async with httpx.AsyncClient(base_url=idp.url) as http:
        signed_out = await http.get(
            "/oauth/authorize", params={**base, **challenge, "client_id": public["client_id"], "redirect_uri": REDIRECT}
        )
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].startswith("/login?next=%2Foauth%2Fauthorize%3F")


async def _code(idp: Server, browser: Browser, client: dict[str, Any], verifier: str) -> str:
    async with oauth_client(idp, client) as app:
        url, _ = app.create_authorization_url(f"{idp.url}/oauth/authorize", code_verifier=verifier)
        back = await authorize(browser, url)
    return parse_qs(urlsplit(back).query)["code"][0]


async def test_codes_are_bound_to_their_verifier_client_and_single_use(idp: Server, browser: Browser) -> None:
    client = await make_client(browser, grant_types=["authorization_code", "refresh_token"])
    other = await make_client(browser, name="Other")
    verifier = secrets.token_urlsafe(48)
    code = await _code(idp, browser, client, verifier)
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    async with httpx.AsyncClient(base_url=idp.url) as http:
        mine = (client["client_id"], client["client_secret"])
        wrong_secret = await http.post("/oauth/token", data=redeem, auth=(client["client_id"], "not-the-secret"))
        assert wrong_secret.status_code == 401
        assert wrong_secret.json()["error"] == "invalid_client"
        wrong_verifier = await http.post("/oauth/token", data={**redeem, "code_verifier": "x" * 50}, auth=mine)
        assert wrong_verifier.json()["error"] == "invalid_grant"
        other_client = await http.post("/oauth/token", data=redeem, auth=(other["client_id"], other["client_secret"]))
        assert other_client.json()["error"] == "invalid_grant"
        wrong_redirect = await http.post("/oauth/token", data={**redeem, "redirect_uri": REDIRECT + "/"}, auth=mine)
        assert wrong_redirect.json()["error"] == "invalid_grant"
        issued = await http.post("/oauth/token", data=redeem, auth=mine)  # client_secret_basic
        assert issued.status_code == 200, issued.text
        bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        assert (await http.get("/api/files", headers=bearer)).status_code == 200
        replayed = await http.post(
            "/oauth/token", data={**redeem, "client_id": client["client_id"], "client_secret": client["client_secret"]}
        )  # client_secret_post
        assert replayed.json()["error"] == "invalid_grant"
        assert (await http.get("/api/files", headers=bearer)).status_code == 401  # what the code issued is revoked
        refresh = issued.json()["refresh_token"]
        # Another client neither refreshes nor introspects this client's tokens.
        theirs = (other["client_id"], other["client_secret"])
        stolen = await http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}, auth=theirs)
        assert stolen.json()["error"] == "invalid_grant"
        peek = await http.post("/oauth/introspect", data={"token": issued.json()["access_token"]}, auth=theirs)
        assert peek.json() == {"active": False}


async def test_introspection_revocation_and_client_credentials(idp: Server, browser: Browser) -> None:
    client = await make_client(browser, grant_types=["authorization_code", "refresh_token", "client_credentials"])
    mine = (client["client_id"], client["client_secret"])
    async with oauth_client(idp, client) as app:
        token, _ = await sign_in_app(idp, browser, app)
    async with httpx.AsyncClient(base_url=idp.url) as http:
        active = (await http.post("/oauth/introspect", data={"token": token["access_token"]}, auth=mine)).json()
        assert active["active"] is True
        assert active["client_id"] == client["client_id"]
        assert "files:read" in active["scope"].split()
        assert (await http.post("/oauth/revoke", data={"token": token["access_token"]}, auth=mine)).status_code == 200
        assert (await http.post("/oauth/introspect", data={"token": token["access_token"]}, auth=mine)).json() == {
            "active": False
        }
        assert (await http.get("/api/files", headers={"Authorization": f"Bearer {token['access_token']}"})).status_code == 401
        assert (await http.post("/oauth/revoke", data={"token": token["refresh_token"]}, auth=mine)).status_code == 200
        gone = await http.post(
            "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}, auth=mine
        )
        assert gone.json()["error"] == "invalid_grant"
        service = await http.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "files:read"}, auth=mine)
        assert service.status_code == 200, service.text
        service_token = service.json()["access_token"]
        assert (await http.post("/oauth/introspect", data={"token": service_token}, auth=mine)).json()["active"] is True
        # It acts as no user: the API refuses it.
        assert (await http.get("/api/files", headers={"Authorization": f"Bearer {service_token}"})).status_code == 401
        user_scope = await http.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "openid"}, auth=mine)
        assert user_scope.json()["error"] == "invalid_scope"
