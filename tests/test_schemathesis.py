"""schemathesis fuzzes every operation of /api/openapi.json on a real `nubes serve`, signed in as the first admin.

It fails on any 5xx, on responses that break the schema (status, content type, body, Allow header),
on schema-violating input that is accepted and on auth that is not enforced. Operations that would
end the fuzzer's own session (login, logout, password change) are left out: the suites in
tests/identity cover them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import empty_database, on_one_engine
from tests.serving import Server, serve

CONFIG = Path(__file__).with_name("schemathesis.toml")
LEFT_OUT = ["auth-login", "auth-logout", "users-me-password", "users-me-sessions-revoke"]


@pytest.fixture(scope="module")
async def fuzz_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database of its own on the engine under test."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("fuzz-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def fuzzed_server(fuzz_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server and database of its own: the fuzzer creates users and trips rate limits other tests should not see."""
    with serve(fuzz_database_url, tmp_path_factory.mktemp("fuzz")) as running:
        yield running


# On PostgreSQL only: it enforces what SQLite lets pass (lengths, integer ranges, encodings), so a 500 the fuzzer can
# provoke shows there; the behaviour of each route on both engines is the business of the domain suites.
@on_one_engine("postgresql")
@pytest.mark.timeout(900)  # a few thousand requests; the subprocess has its own 600 s limit
def test_schemathesis_finds_nothing(fuzzed_server: Server, tmp_path: Path) -> None:
    token = fuzzed_server.admin_token()
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{fuzzed_server.url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--seed",
        os.environ.get("NUBES_SCHEMATHESIS_SEED", "20261122"),
        "--no-color",
    ]
    for operation_id in LEFT_OUT:
        command += ["--exclude-operation-id", operation_id]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    report = result.stdout + result.stderr
    (tmp_path / "report.txt").write_text(report)
    # The failures come before the warnings (missing test data, links), which are long and not failures.
    failures = report.split("=== WARNINGS ===")[0]
    assert result.returncode == 0, f"{failures[-20000:]}\n(the whole report: {tmp_path / 'report.txt'})"
    assert "No issues found" in report or " passed" in report, report[-4000:]
