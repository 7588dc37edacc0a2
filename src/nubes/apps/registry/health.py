"""Talking to registered services: `GET /health` and `GET /plugin/manifest`, bounded (5 s, 256 KiB, no redirects).

One aiohttp session per process (`Fetcher`, on `app.state.apps_fetcher`), opened on first use and closed at shutdown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import orjson
from pydantic import ValidationError

from nubes.apps.registry.manifest import MAX_MANIFEST_BYTES, Manifest

TIMEOUT_SECONDS = 5.0


class FetchError(Exception):
    """A service did not answer as asked; the message says why, in words an admin can act on."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a service answered: its status, its body (at most 256 KiB) and how long it took."""

    status: int
    body: bytes
    latency_ms: int


@dataclass(frozen=True, slots=True)
class HealthResult:
    """One health check: whether the service is up, and its manifest when it could be read and checked."""

    ok: bool
    status_code: int | None
    latency_ms: int | None
    error: str
    manifest: Manifest | None = None
    manifest_error: str = ""


class Fetcher:
    """GET requests to services with Nubes' bounds; a `Startable` so the server closes it at shutdown."""

    def __init__(self, *, timeout: float = TIMEOUT_SECONDS, limit: int = MAX_MANIFEST_BYTES) -> None:
        self.timeout = timeout
        self.limit = limit
        self._http: aiohttp.ClientSession | None = None

    def start(self) -> None:
        """Nothing to start: the session opens on first use (it needs the running event loop)."""

    async def stop(self) -> None:
        """Close the connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def get(self, url: str) -> Answer:
        """GET `url`, never following a redirect; FetchError when it cannot be reached or answers too much."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout), headers={"User-Agent": "Nubes registry"}
            )
        started = time.perf_counter()
        try:
            async with self._http.get(url, allow_redirects=False) as response:
                body = await response.content.read(self.limit + 1)
                if len(body) > self.limit:
                    raise FetchError(f"{url} answered more than {self.limit // 1024} KiB.")
                return Answer(response.status, body, round((time.perf_counter() - started) * 1000))
        except TimeoutError:
            raise FetchError(f"{url} did not answer within {self.timeout:g} s.") from None
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(f"{url} cannot be reached ({exc.os_error.strerror or type(exc.os_error).__name__}).") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise FetchError(f"{url} failed: {type(exc).__name__}.") from None


def read_manifest(body: bytes, *, expected_id: str | None = None) -> Manifest:
    """The manifest in a service's answer; FetchError naming what is wrong (the first few problems)."""
    try:
        manifest = Manifest.model_validate(orjson.loads(body))
    except orjson.JSONDecodeError:
        raise FetchError("The manifest is not JSON.") from None
    except ValidationError as exc:
        problems = [f"{'.'.join(str(part) for part in error['loc']) or 'manifest'}: {error['msg']}" for error in exc.errors()[:3]]
        more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        raise FetchError(f"The manifest is not valid: {'; '.join(problems)}{more}.") from None
    if expected_id is not None and manifest.id != expected_id:
        raise FetchError(f"The manifest's id changed from {expected_id!r} to {manifest.id!r}; register it as a new service.")
    return manifest


async def fetch_manifest(fetcher: Fetcher, base_url: str, *, expected_id: str | None = None) -> Manifest:
    """The service's checked manifest; FetchError with the reason otherwise."""
    answer = await fetcher.get(f"{base_url}/plugin/manifest")
    if answer.status != 200:
        redirect = " (redirects are not followed)" if 300 <= answer.status < 400 else ""
        raise FetchError(f"{base_url}/plugin/manifest answered {answer.status}{redirect}; it must answer 200 with the manifest.")
    return read_manifest(answer.body, expected_id=expected_id)


async def check(fetcher: Fetcher, base_url: str, *, expected_id: str) -> HealthResult:
    """Check a service's health and read its manifest, at once."""
    health, manifest = await asyncio.gather(
        fetcher.get(f"{base_url}/health"),
        fetch_manifest(fetcher, base_url, expected_id=expected_id),
        return_exceptions=True,
    )
    manifest_error = str(manifest) if isinstance(manifest, FetchError) else ""
    if isinstance(manifest, BaseException) and not isinstance(manifest, FetchError):
        raise manifest
    good_manifest = manifest if isinstance(manifest, Manifest) else None
    if isinstance(health, FetchError):
        return HealthResult(False, None, None, str(health), good_manifest, manifest_error)
    if isinstance(health, BaseException):
        raise health
    if not 200 <= health.status < 300:
        error = f"/health answered {health.status}."
        return HealthResult(False, health.status, health.latency_ms, error, good_manifest, manifest_error)
    return HealthResult(True, health.status, health.latency_ms, "", good_manifest, manifest_error)
