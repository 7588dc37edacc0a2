"""litmus' `locks` suite (WebDAV class 2: LOCK, refresh, UNLOCK, shared and exclusive locks, conditional PUTs with
`If`) against a real `nubes serve` on each engine: every test passes, signed in over HTTP Basic as the first admin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.conftest import empty_database
from tests.files.dav.litmus import assert_all_passed, run_litmus
from tests.serving import Server, serve

SUITES = ("locks",)


@pytest.fixture(scope="module")
async def locks_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database of its own on the engine under test."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("litmus-locks-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def locks_server(locks_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own (litmus leaves its collection behind, in the trash)."""
    with serve(locks_database_url, tmp_path_factory.mktemp("litmus-locks")) as running:
        yield running


@pytest.mark.timeout(600)
def test_litmus_locks_suite_passes_every_test(locks_server: Server) -> None:
    url = f"{locks_server.url}/dav/files/{locks_server.admin_username}/"
    run = run_litmus(url, locks_server.admin_username, locks_server.admin_password, SUITES)
    print(run.summary())  # noqa: T201 - the README quotes it
    print(run.failures())  # noqa: T201 - the warnings, if any
    assert_all_passed(run, SUITES)
