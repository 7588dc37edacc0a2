"""The gateway's header rules and its circuit breaker, without a network."""

from __future__ import annotations

import uuid

import pytest

from nubes.apps.gateway import headers
from nubes.apps.gateway.breaker import Breakers
from nubes.apps.gateway.exceptions import ServiceDown

FORWARDED = headers.Forwarded(client="203.0.113.7", proto="https", host="cloud.example.org", prefix="/apps/echo")


def test_identity_headers_credentials_and_hop_by_hop_headers_never_reach_the_service() -> None:
    sent = [
        ("Host", "cloud.example.org"),
        ("X-User-Id", "forged"),
        ("x-user-groups", "admins"),
        ("X-Forwarded-User", "root"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("X-Remote-User", "root"),
        ("Remote-User", "root"),
        ("X-Auth-Request-Email", "root@example.org"),
        ("X-Nubes-Assertion", "forged.jwt.value"),
        ("X-Nubes-Anything", "x"),
        ("Authorization", "Bearer nbp_secret"),
        ("Connection", "keep-alive, X-Private-Hop"),
        ("X-Private-Hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Transfer-Encoding", "chunked"),
        ("Upgrade", "h2c"),
        ("Proxy-Authorization", "Basic x"),
        ("Cookie", "nubes_access=tok; app=1; nubes_csrf=c"),
        ("Cookie", "__Host-nubes_x=1; nubes_link_access=l; other=2"),
        ("Accept", "application/json"),
        ("X-Custom", "kept"),
    ]
    out = headers.request_headers(sent, forwarded=FORWARDED, assertion="signed")
    assert out.getall("X-Nubes-Assertion") == ["signed"]
    assert out["Cookie"] == "app=1; other=2"
    assert out["X-Forwarded-For"] == "203.0.113.7"
    assert out["X-Forwarded-Proto"] == "https"
    assert out["X-Forwarded-Host"] == "cloud.example.org"
    assert out["X-Forwarded-Prefix"] == "/apps/echo"
    assert out["Accept"] == "application/json"
    assert out["X-Custom"] == "kept"
    names = {name.lower() for name in out}
    for gone in (
        "host",
        "x-user-id",
        "x-user-groups",
        "x-forwarded-user",
        "x-remote-user",
        "remote-user",
        "x-auth-request-email",
        "x-nubes-anything",
        "authorization",
        "connection",
        "x-private-hop",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
    ):
        assert gone not in names, gone


def test_no_cookie_header_when_only_nubes_cookies_were_sent() -> None:
    out = headers.request_headers([("Cookie", "nubes_access=a; nubes_refresh=b")], forwarded=FORWARDED, assertion="s")
    assert "Cookie" not in out


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://svc:8000/base/whoami?x=1#top", "/apps/echo/whoami?x=1#top"),
        ("http://svc:8000/base", "/apps/echo/"),
        ("/base/inner/", "/apps/echo/inner/"),
        ("/apps/echo/already", "/apps/echo/already"),
        ("relative/path", "relative/path"),
        ("https://example.org/elsewhere", "https://example.org/elsewhere"),
        ("http://svc:8000/outside", "http://svc:8000/outside"),
    ],
)
def test_locations_of_the_service_are_rewritten_under_its_prefix(location: str, expected: str) -> None:
    assert headers.location(location, base_url="http://svc:8000/base", prefix="/apps/echo") == expected


def test_set_cookie_is_kept_to_the_app_path_and_never_sets_a_nubes_cookie() -> None:
    prefix = "/apps/echo"
    assert headers.set_cookie("a=1; Path=/; HttpOnly; Domain=example.org", prefix=prefix) == "a=1; Path=/apps/echo/; HttpOnly"
    assert headers.set_cookie("a=1; Path=/apps/echo/inner", prefix=prefix) == "a=1; Path=/apps/echo/inner"
    assert headers.set_cookie("a=1; Path=/apps/echoes", prefix=prefix) == "a=1; Path=/apps/echo/"
    assert headers.set_cookie("a=1", prefix=prefix) == "a=1; Path=/apps/echo/"
    assert headers.set_cookie("nubes_access=stolen; Path=/", prefix=prefix) is None
    assert headers.set_cookie("NUBES_CSRF=x", prefix=prefix) is None
    assert headers.set_cookie("__Secure-nubes_refresh=x; Secure", prefix=prefix) is None
    assert headers.set_cookie("__Host-app=x; Path=/; Secure", prefix=prefix) is None


def test_answer_headers_lose_hop_by_hop_and_site_wide_headers() -> None:
    answer = headers.response_headers(
        [
            ("Content-Type", "text/plain"),
            ("Connection", "close, X-Hop"),
            ("X-Hop", "1"),
            ("Transfer-Encoding", "chunked"),
            ("Clear-Site-Data", '"*"'),
            ("Service-Worker-Allowed", "/"),
            ("Set-Cookie", "nubes_access=x"),
            ("Set-Cookie", "app=1"),
            ("Location", "http://svc/whoami"),
        ],
        base_url="http://svc",
        prefix="/apps/echo",
    )
    assert answer == [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "app=1; Path=/apps/echo/"),
        ("Location", "/apps/echo/whoami"),
    ]


def test_the_circuit_opens_after_five_failures_and_lets_one_probe_through_after_the_cool_down() -> None:
    breakers = Breakers(threshold=5, cool_down=0.0)
    service = uuid.uuid4()
    for _ in range(4):
        breakers.failed(service)
        assert breakers.admit(service, "Echo") is False
    breakers.failed(service)
    assert breakers.is_open(service)
    assert breakers.admit(service, "Echo") is True  # cooled down (0 s): the probe
    with pytest.raises(ServiceDown):
        breakers.admit(service, "Echo")  # while the probe runs, others wait
    breakers.failed(service)  # the probe failed: open again
    assert breakers.admit(service, "Echo") is True
    breakers.succeeded(service)
    assert not breakers.is_open(service)
    assert breakers.admit(service, "Echo") is False


def test_an_open_circuit_answers_503_with_retry_after() -> None:
    breakers = Breakers(threshold=1, cool_down=30.0)
    service = uuid.uuid4()
    breakers.failed(service)
    with pytest.raises(ServiceDown) as refused:
        breakers.admit(service, "Echo")
    assert refused.value.headers is not None
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 30
    assert "Echo is not answering; it was marked down at" in str(refused.value.detail)
