"""The gateway with a real test service behind a real `nubes serve`: the signed assertion the service verifies against
Nubes' JWKS, forged identity headers and Nubes' credentials kept from it, streaming both ways, WebSockets, server-sent
events, health and the circuit breaker, and who may pass."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import unquote

import httpx
import pytest
import websockets

from nubes.apps.gateway.deps import RECHECK_SECONDS
from tests.apps.gateway.conftest import MANIFEST_LIMITS, Gateway, kill, run_service
from tests.apps.gateway.upstream import pattern
from tests.apps.service_app import default_manifest

pytestmark = pytest.mark.timeout(300)

MB = 1024 * 1024


def whoami(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def received_headers(answer: dict[str, object]) -> dict[str, str]:
    pairs = answer["headers"]
    assert isinstance(pairs, list)
    return dict(pairs)


def test_the_service_verifies_the_assertion_and_sees_who_calls(gateway: Gateway) -> None:
    """GIVEN a user in a group WHEN they call the service through the gateway THEN the service verifies the assertion
    (signature against the JWKS, audience = its slug, expiry) and its claims name the user, tenant, groups and scopes."""
    headers, user = gateway.user("alice")
    group = httpx.post(gateway.url("/api/admin/groups"), json={"name": f"readers-{secrets.token_hex(2)}"}, headers=gateway.admin)
    assert group.status_code == 201, group.text
    gateway.add_member(group.json()["id"], user["id"])
    me = httpx.get(gateway.url("/api/users/me"), headers=headers).json()

    answer = whoami(httpx.get(gateway.url("/apps/echo/whoami?a=1&b=two%20words"), headers={**headers, "X-Custom": "kept"}))

    claims = answer["claims"]
    assert isinstance(claims, dict)
    assert claims["aud"] == "echo"
    assert claims["iss"] == "nubes"
    assert claims["sub"] == user["id"]
    assert claims["tid"] == user["tenant_id"] == me["tenant"]["id"]
    assert claims["preferred_username"] == user["username"]
    assert group.json()["name"] in claims["groups"]
    assert "apps.use" in claims["scopes"]
    assert claims["exp"] - claims["iat"] == 60
    assert answer["path"] == "/whoami"
    assert answer["query"] == "a=1&b=two%20words"
    seen = received_headers(answer)
    assert seen["x-custom"] == "kept"
    assert seen["x-forwarded-prefix"] == "/apps/echo"
    assert seen["x-forwarded-for"] == "127.0.0.1"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_methods_and_bodies_pass(gateway: Gateway, method: str) -> None:
    headers, _ = gateway.user("bob")
    answer = whoami(httpx.request(method, gateway.url("/apps/echo/whoami?x=1"), headers=headers, content=b"hello body"))
    assert answer["method"] == method
    assert answer["body"] == "hello body"
    assert answer["query"] == "x=1"


def test_forged_identity_headers_and_nubes_credentials_never_reach_the_service(gateway: Gateway) -> None:
    """GIVEN a client that sends X-User-Id, its own X-Nubes-Assertion and X-Forwarded-User, and its Nubes token in
    Authorization and in cookies THEN the service sees none of them as sent: the assertion is the gateway's (it verifies)."""
    headers, user = gateway.user("mallory")
    forged = {
        "X-User-Id": "00000000-0000-0000-0000-000000000001",
        "X-User-Groups": "admins",
        "X-Nubes-Assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.",
        "X-Forwarded-User": "root",
        "X-Remote-User": "root",
        "Remote-User": "root",
        "X-Auth-Request-User": "root",
    }
    token = headers["Authorization"].removeprefix("Bearer ")
    cookies = f"nubes_access={token}; nubes_refresh=r; nubes_csrf=c; nubes_link_access=l; app_pref=dark"
    answer = whoami(httpx.get(gateway.url("/apps/echo/whoami"), headers={**headers, **forged, "Cookie": cookies}))
    seen = received_headers(answer)
    claims = answer["claims"]
    assert isinstance(claims, dict)
    assert claims["sub"] == user["id"]
    assert seen["x-nubes-assertion"] != forged["X-Nubes-Assertion"]
    for name in ("x-user-id", "x-user-groups", "x-forwarded-user", "x-remote-user", "remote-user", "x-auth-request-user"):
        assert name not in seen, name
    assert "authorization" not in seen
    assert seen["cookie"] == "app_pref=dark"
    assert token not in str(seen)
    # What the service received is no key to Nubes: an assertion is refused as an access token.
    replayed = httpx.get(gateway.url("/api/users/me"), headers={"Authorization": f"Bearer {seen['x-nubes-assertion']}"})
    assert replayed.status_code == 401


def test_the_session_cookie_works_and_unsafe_methods_need_our_origin(gateway: Gateway) -> None:
    headers, _ = gateway.user("carol")
    token = headers["Authorization"].removeprefix("Bearer ")
    cookie = {"Cookie": f"nubes_access={token}"}
    assert httpx.get(gateway.url("/apps/echo/whoami"), headers=cookie).status_code == 200
    refused = httpx.post(gateway.url("/apps/echo/whoami"), headers={**cookie, "Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    same = httpx.post(gateway.url("/apps/echo/whoami"), headers={**cookie, "Origin": gateway.server.url}, content=b"form=1")
    assert whoami(same)["body"] == "form=1"


def test_without_credentials_browsers_go_to_sign_in_and_others_get_401(gateway: Gateway) -> None:
    page = httpx.get(gateway.url("/apps/echo/page?x=1"), headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 303
    location = page.headers["location"]
    assert location.startswith("/login?next=")
    assert unquote(location.removeprefix("/login?next=")) == "/apps/echo/page?x=1"
    api = httpx.get(gateway.url("/apps/echo/whoami"), headers={"Accept": "application/json"})
    assert api.status_code == 401
    assert api.json()["type"] == "urn:nubes:problem:unauthorized"


def test_the_service_root_redirects_and_the_apps_page_stays_the_web_uis(gateway: Gateway) -> None:
    redirected = httpx.get(gateway.url("/apps/echo?x=1"))
    assert redirected.status_code == 308
    assert redirected.headers["location"] == "/apps/echo/?x=1"
    page = httpx.get(gateway.url("/apps"), headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")  # the SPA's shell (here: "the UI is not built")
    assert "x-nubes-assertion" not in page.text.lower()


def test_redirects_and_cookies_of_the_service_stay_under_its_path(gateway: Gateway) -> None:
    headers, _ = gateway.user("dave")
    absolute = httpx.get(gateway.url("/apps/echo/redirect?to=absolute"), headers=headers)
    assert absolute.status_code == 302
    assert absolute.headers["location"] == "/apps/echo/whoami?x=1"
    assert httpx.get(gateway.url("/apps/echo/redirect?to=root"), headers=headers).headers["location"] == "/apps/echo/whoami"
    assert httpx.get(gateway.url("/apps/echo/redirect?to=relative"), headers=headers).headers["location"] == "whoami"
    elsewhere = httpx.get(gateway.url("/apps/echo/redirect?to=elsewhere"), headers=headers)
    assert elsewhere.headers["location"] == "https://example.org/"
    answer = httpx.get(gateway.url("/apps/echo/cookies"), headers=headers)
    assert answer.status_code == 200
    assert answer.headers.get_list("set-cookie") == [
        "app_session=abc; Path=/apps/echo/; HttpOnly",
        "scoped=1; Path=/apps/echo/inner",
    ]
    assert "clear-site-data" not in answer.headers


def test_dot_segments_are_refused(gateway: Gateway) -> None:
    headers, _ = gateway.user("erin")
    climbed = httpx.get(gateway.url("/apps/echo/a/%2e%2e/whoami"), headers=headers)
    assert climbed.status_code == 400


async def _chunks(total: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    block = os.urandom(MB)
    sent = 0
    while sent < total:
        piece = block[: min(MB, total - sent)]
        digest.update(piece)
        sent += len(piece)
        yield piece


async def test_a_100_mb_upload_streams_through(gateway: Gateway) -> None:
    headers, _ = gateway.user("frank")
    digest = hashlib.sha256()
    async with httpx.AsyncClient(timeout=120) as client:
        answer = await client.post(gateway.url("/apps/echo/upload"), headers=headers, content=_chunks(100 * MB, digest))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"bytes": 100 * MB, "sha256": digest.hexdigest()}


async def test_a_large_download_streams_back(gateway: Gateway) -> None:
    headers, _ = gateway.user("grace")
    size = 200 * MB + 123
    digest = hashlib.sha256()
    received = 0
    async with (
        httpx.AsyncClient(timeout=120) as client,
        client.stream("GET", gateway.url(f"/apps/echo/download?size={size}"), headers=headers) as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-length"] == str(size)
        async for chunk in answer.aiter_raw():
            digest.update(chunk)
            received += len(chunk)
    assert received == size
    assert digest.hexdigest() == hashlib.sha256(pattern(size)).hexdigest()


async def test_a_body_over_the_limit_is_413_and_the_service_never_gets_it_whole(gateway: Gateway) -> None:
    """GIVEN the service accepts 150 MB WHEN a client streams 160 MB without a length THEN 413, and the service saw an
    incomplete body; a declared length over the limit is refused before anything is sent."""
    headers, _ = gateway.user("heidi")
    async with httpx.AsyncClient(timeout=120) as client:
        before = len((await client.get(f"{gateway.echo.url}/uploads")).json())
        answer = await client.post(gateway.url("/apps/echo/upload"), headers=headers, content=_chunks(160 * MB, hashlib.sha256()))
        assert answer.status_code == 413
        assert answer.json()["type"] == "urn:nubes:problem:payload-too-large"
        uploads = (await client.get(f"{gateway.echo.url}/uploads")).json()[before:]
        assert all(not upload["complete"] for upload in uploads)
    host, port = gateway.server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST /apps/echo/upload HTTP/1.1\r\nHost: {host}\r\nAuthorization: {headers['Authorization']}\r\n"
        f"Content-Length: {151 * MB}\r\n\r\n".encode()
    )
    await writer.drain()
    status_line = await reader.readline()  # answered before any of the body was sent
    writer.close()
    assert status_line.split()[1] == b"413"


async def test_a_websocket_echoes_through_the_gateway(gateway: Gateway) -> None:
    headers, user = gateway.user("ivan")
    url = gateway.url("/apps/echo/ws").replace("http://", "ws://")
    async with websockets.connect(url, additional_headers=headers) as socket:
        hello = await socket.recv()
        assert str(user["username"]) in str(hello)  # the service verified the assertion on the handshake
        await socket.send("ping")
        assert await socket.recv() == "echo: ping"
        await socket.send(b"\x01\x02\x03")
        assert await socket.recv() == b"\x03\x02\x01"
        await socket.send("close")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4000


async def _until_closed(socket: websockets.ClientConnection) -> None:
    while True:
        await socket.recv()


async def test_an_open_websocket_closes_once_its_caller_is_deactivated(gateway: Gateway) -> None:
    """GIVEN a socket open through the gateway WHEN an admin deactivates its user THEN within the recheck interval the
    browser's side closes with 4401 and the reason, and the service's side is closed too (not left open)."""
    headers, user = gateway.user("nadia")
    url = gateway.url("/apps/echo/ws").replace("http://", "ws://")
    async with websockets.connect(url, additional_headers=headers) as socket:
        await socket.recv()
        await socket.send("ping")
        assert await socket.recv() == "echo: ping"
        async with httpx.AsyncClient() as client:
            deactivated = await client.patch(
                gateway.url(f"/api/admin/users/{user['id']}"), json={"is_active": False}, headers=gateway.admin
            )
        assert deactivated.status_code == 200, deactivated.text
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(_until_closed(socket), 4 * RECHECK_SECONDS)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_a_websocket_from_another_site_or_without_credentials_is_refused(gateway: Gateway) -> None:
    headers, _ = gateway.user("judy")
    token = headers["Authorization"].removeprefix("Bearer ")
    url = gateway.url("/apps/echo/ws").replace("http://", "ws://")
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(url, additional_headers={"Cookie": f"nubes_access={token}"}, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(url):
            pass


async def test_server_sent_events_arrive_one_by_one(gateway: Gateway) -> None:
    """GIVEN a service that sends its next event only once the test read the previous one THEN each event arrives
    through the gateway on its own (nothing waits in a buffer)."""
    headers, _ = gateway.user("ken")
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("GET", gateway.url("/apps/echo/events?count=3"), headers=headers) as answer,
    ):
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = answer.aiter_lines()
        for number in (1, 2, 3):
            assert await anext(lines) == f"id: {number}"
            assert await anext(lines) == f"data: event {number}"
            assert await anext(lines) == ""
            if number < 3:
                await client.post(f"{gateway.echo.url}/events/next")


def test_a_service_marked_down_answers_503_then_200_once_up(gateway: Gateway) -> None:
    headers, _ = gateway.user("leo")
    try:
        gateway.echo.set_health(up=False)
        assert gateway.refresh(gateway.echo_id)["status"] == "down"
        down = httpx.get(gateway.url("/apps/echo/whoami"), headers=headers)
        assert down.status_code == 503
        assert down.json()["type"] == "urn:nubes:problem:service-unavailable"
        assert "is not answering" in down.json()["detail"]
        assert int(down.headers["retry-after"]) > 0
    finally:
        gateway.echo.set_health(up=True)
        assert gateway.refresh(gateway.echo_id)["status"] == "up"
    assert httpx.get(gateway.url("/apps/echo/whoami"), headers=headers).status_code == 200


def test_an_isolated_service_gets_its_html_sandboxed(gateway: Gateway) -> None:
    """GIVEN a service whose manifest asks to be isolated THEN its HTML comes with a CSP sandbox (an opaque origin: its
    scripts cannot use Nubes' cookies or API); other answers are left alone."""
    headers, _ = gateway.user("olga")
    try:
        gateway.echo.set_manifest({**default_manifest("echo"), **MANIFEST_LIMITS, "isolated": True})
        gateway.refresh(gateway.echo_id)
        page = httpx.get(gateway.url("/apps/echo/"), headers=headers)
        assert page.status_code == 200
        assert "sandbox allow-scripts" in page.headers["content-security-policy"]
        data = httpx.get(gateway.url("/apps/echo/whoami"), headers=headers)
        assert "sandbox" not in data.headers.get("content-security-policy", "")
    finally:
        gateway.echo.set_manifest({**default_manifest("echo"), **MANIFEST_LIMITS})
        gateway.refresh(gateway.echo_id)
    later, _ = gateway.user("olga-later")  # another caller: nothing kept for them (targets live 5 s per caller)
    assert "sandbox" not in httpx.get(gateway.url("/apps/echo/"), headers=later).headers["content-security-policy"]


@pytest.fixture
def doomed(gateway: Gateway) -> Iterator[str]:
    """A second service, registered, that the test kills."""
    slug = f"doomed-{secrets.token_hex(2)}"
    with run_service(slug) as service:
        gateway.register(service)
        assert httpx.get(gateway.url(f"/apps/{slug}/health"), headers=gateway.admin).status_code == 200
        kill(service)
        yield slug


def test_a_killed_service_opens_the_circuit(gateway: Gateway, doomed: str) -> None:
    """GIVEN a service process killed WHEN five requests fail to connect (502 each) THEN the circuit opens: 503 with
    Retry-After at once, without trying to connect."""
    statuses = [httpx.get(gateway.url(f"/apps/{doomed}/whoami"), headers=gateway.admin).status_code for _ in range(4)]
    assert statuses == [502] * 4
    opened = httpx.get(gateway.url(f"/apps/{doomed}/whoami"), headers=gateway.admin)
    assert opened.status_code == 503
    refused = httpx.get(gateway.url(f"/apps/{doomed}/whoami"), headers=gateway.admin)
    assert refused.status_code == 503
    assert refused.json()["type"] == "urn:nubes:problem:service-unavailable"
    assert "marked down at" in refused.json()["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 30


def test_only_granted_users_pass_and_unknown_services_are_404(gateway: Gateway) -> None:
    """GIVEN the echo service granted to one group THEN a member passes, another user gets 403; an unknown slug 404."""
    member_headers, member = gateway.user("nina")
    other_headers, _ = gateway.user("oscar")
    group = httpx.post(gateway.url("/api/admin/groups"), json={"name": f"echoers-{secrets.token_hex(2)}"}, headers=gateway.admin)
    assert group.status_code == 201, group.text
    gateway.add_member(group.json()["id"], member["id"])
    granted = httpx.post(
        gateway.url(f"/api/apps/services/{gateway.echo_id}/permissions"),
        json={"group_id": group.json()["id"]},
        headers=gateway.admin,
    )
    assert granted.status_code == 200, granted.text
    try:
        assert httpx.get(gateway.url("/apps/echo/whoami"), headers=member_headers).status_code == 200
        refused = httpx.get(gateway.url("/apps/echo/whoami"), headers=other_headers)
        assert refused.status_code == 403
        assert refused.json()["type"] == "urn:nubes:problem:forbidden"
    finally:
        for permission in httpx.get(
            gateway.url(f"/api/apps/services/{gateway.echo_id}/permissions"), headers=gateway.admin
        ).json()["items"]:
            httpx.delete(
                gateway.url(f"/api/apps/services/{gateway.echo_id}/permissions/{permission['id']}"), headers=gateway.admin
            )
    unknown = httpx.get(gateway.url("/apps/nothing-here/whoami"), headers=member_headers)
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "urn:nubes:problem:not-found"


def test_a_slow_service_is_a_504(gateway: Gateway) -> None:
    headers, _ = gateway.user("pat")
    seconds = MANIFEST_LIMITS["timeout_seconds"] + 2
    slow = httpx.get(gateway.url(f"/apps/echo/slow?seconds={seconds}"), headers=headers, timeout=60)
    assert slow.status_code == 504
    assert slow.json()["type"] == "urn:nubes:problem:gateway-timeout"


async def test_many_requests_at_once_all_pass(gateway: Gateway) -> None:
    headers, _ = gateway.user("quinn")
    async with httpx.AsyncClient(timeout=60) as client:
        answers = await asyncio.gather(*(client.get(gateway.url(f"/apps/echo/whoami?n={n}"), headers=headers) for n in range(50)))
    assert [answer.status_code for answer in answers] == [200] * 50
