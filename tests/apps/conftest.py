"""Fixtures of the apps tests: the test service (tests/apps/service_app.py) in a process of its own."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apps.service_app import SLUG
from tests.serving import PORT_ATTEMPTS, READY_WITHIN, free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningService:
    """The running test service: its base URL, and what a test may change in it (health, manifest)."""

    url: str
    pid: int

    def _control(self, what: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/_control/{what}", json=body, timeout=10).raise_for_status()

    def set_health(self, *, up: bool) -> None:
        """Make /health answer 200 (up) or 503 (down)."""
        self._control("health", {"up": up})

    def set_manifest(self, manifest: Any) -> None:
        """Serve this JSON at /plugin/manifest."""
        self._control("manifest", {"manifest": manifest})

    def set_manifest_status(self, status: int) -> None:
        """Answer /plugin/manifest with this status (and no manifest)."""
        self._control("manifest", {"status": status})

    def reset(self, slug: str = SLUG) -> None:
        """Healthy again, serving the default manifest with this id."""
        self._control("reset", {"slug": slug})


@contextlib.contextmanager
def run_test_service() -> Iterator[RunningService]:
    """`python -m tests.apps.service_app` on a free loopback port; stopped on exit."""
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.apps.service_app", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_WITHIN
            while process.poll() is None:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"the test service did not start within {READY_WITHIN} s")
                time.sleep(0.1)
            if process.returncode is not None:
                log.seek(0)
                errors = log.read().decode(errors="replace")
                if "address already in use" in errors.lower() and attempt + 1 < PORT_ATTEMPTS:
                    continue
                pytest.fail(f"the test service exited with {process.returncode}:\n{errors}")
            yield RunningService(url=url, pid=process.pid)
            return
        finally:
            stop_process(process)
            log.close()


@pytest.fixture(scope="session")
def test_service_process() -> Iterator[RunningService]:
    """The test service, started once per test process."""
    with run_test_service() as service:
        yield service


@pytest.fixture
def test_service(test_service_process: RunningService) -> RunningService:
    """The test service, healthy and serving its default manifest (id `echo`) at the start of each test."""
    test_service_process.reset()
    return test_service_process
