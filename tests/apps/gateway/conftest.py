"""A real `nubes serve` with the test service registered behind its gateway, and users to call it with."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.apps.conftest import RunningService, run_test_service
from tests.apps.service_app import default_manifest
from tests.conftest import empty_database
from tests.serving import Server, serve

PASSWORD = "Granite-Oriole-Vessel-81"


MANIFEST_LIMITS = {"max_body_bytes": 150 * 1024 * 1024, "timeout_seconds": 10}
"""The echo service's limits in these tests: a 150 MB body, 10 s to answer (a loaded CI machine can take a few seconds
to fetch the JWKS and verify the first assertion; 3 s timed out there)."""


@contextlib.contextmanager
def run_service(slug: str) -> Iterator[RunningService]:
    """The test service in a process of its own, serving a manifest with id `slug` and the limits above."""
    with run_test_service() as service:
        service.set_manifest({**default_manifest(slug), **MANIFEST_LIMITS})
        yield service


def kill(service: RunningService) -> None:
    """SIGKILL the service's process, as a crashed service."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(service.pid, signal.SIGKILL)


@dataclass
class Gateway:
    """The server, the services behind it, and helpers to make users."""

    server: Server
    echo: RunningService
    echo_id: str
    admin: dict[str, str]
    users: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def user(self, name: str) -> tuple[dict[str, str], dict[str, object]]:
        """A new member of the admin's tenant, signed in: their Authorization header and their user."""
        created = httpx.post(
            self.url("/api/admin/users"),
            json={"username": f"{name}-{secrets.token_hex(3)}", "password": PASSWORD},
            headers=self.admin,
        )
        assert created.status_code == 201, created.text
        user: dict[str, object] = created.json()
        login = httpx.post(self.url("/api/auth/login"), json={"username": user["username"], "password": PASSWORD})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}, user

    def add_member(self, group_id: str, user_id: object) -> None:
        """Put a user in a group, as an admin."""
        added = httpx.put(self.url(f"/api/admin/groups/{group_id}/members/{user_id}"), headers=self.admin)
        assert added.status_code in {200, 201, 204}, added.text

    def register(self, service: RunningService) -> str:
        """Register a service as the super-admin; its id."""
        registered = httpx.post(
            self.url("/api/apps/admin/services"), json={"base_url": service.url}, headers=self.admin, timeout=30
        )
        assert registered.status_code == 201, registered.text
        service_id: str = registered.json()["id"]
        return service_id

    def refresh(self, service_id: str) -> dict[str, object]:
        """Check the service's health now (as the periodic check does)."""
        refreshed = httpx.post(self.url(f"/api/apps/admin/services/{service_id}/refresh"), headers=self.admin, timeout=30)
        assert refreshed.status_code == 200, refreshed.text
        detail: dict[str, object] = refreshed.json()
        return detail


@pytest.fixture(scope="module")
async def gateway_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("gateway-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def gateway(gateway_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One server per engine with the echo service registered and told where Nubes' keys are."""
    workdir = tmp_path_factory.mktemp("gateway")
    with run_service("echo") as echo, serve(gateway_database_url, workdir) as server:
        running = Gateway(server=server, echo=echo, echo_id="", admin={"Authorization": f"Bearer {server.admin_token()}"})
        running.echo_id = running.register(echo)
        configured = httpx.post(
            f"{echo.url}/gateway/configure",
            json={"jwks_url": f"{server.url}/api/auth/jwks.json", "audience": "echo", "issuer": "nubes"},
        )
        assert configured.status_code == 200, configured.text
        yield running
