"""Behind a reverse proxy: `X-Forwarded-For` names the client only when the peer is a trusted proxy
(NUBES_TRUSTED_PROXIES), and then only the address that proxy added, never one the client wrote before it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from nubes.config import ConfigError, load_settings
from tests.conftest import empty_database
from tests.serving import Server, serve

pytestmark = pytest.mark.timeout(300)  # two servers start on a busy machine


@pytest.fixture(scope="module")
async def proxied_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("proxied-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def servers(proxied_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """One server that trusts the loopback proxy (this test's client), one that trusts nobody."""
    with contextlib.ExitStack() as stack:
        trusting = stack.enter_context(
            serve(proxied_database_url, tmp_path_factory.mktemp("trusting"), NUBES_TRUSTED_PROXIES="127.0.0.1, ::1")
        )
        plain = stack.enter_context(serve(proxied_database_url, tmp_path_factory.mktemp("plain")))
        yield trusting, plain


def session_address(server: Server, forwarded_for: str | None) -> str:
    """Sign in with `X-Forwarded-For` (if any) and read back the address the new session was recorded with."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    signed_in = httpx.post(
        f"{server.url}/api/auth/login",
        json={"username": server.admin_username, "password": server.admin_password},
        headers=headers,
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    sessions = httpx.get(f"{server.url}/api/users/me/sessions", headers={"Authorization": f"Bearer {token}"}).json()
    current: list[str] = [entry["ip"] for entry in sessions if entry["current"]]
    assert len(current) == 1
    return current[0]


def test_a_trusted_proxy_names_the_client(servers: tuple[Server, Server]) -> None:
    trusting, _ = servers
    assert session_address(trusting, "198.51.100.7") == "198.51.100.7"
    # The client wrote an address first; the proxy appended the one it saw: that one counts.
    assert session_address(trusting, "6.6.6.6, 198.51.100.8") == "198.51.100.8"
    assert session_address(trusting, None) == "127.0.0.1"


def test_without_trusted_proxies_the_header_is_ignored(servers: tuple[Server, Server]) -> None:
    _, plain = servers
    assert session_address(plain, "198.51.100.7") == "127.0.0.1"


@pytest.mark.parametrize("value", ["*", "proxy.example.org", "10.0.0.0/33"])
def test_a_proxy_must_be_an_address_or_a_network(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="not an address or a network"):
        load_settings(data_dir=tmp_path, trusted_proxies=value)
