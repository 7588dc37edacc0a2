"""litmus (the WebDAV compliance suite) against a real `nubes serve` on each engine: basic, copymove, props and http,
then locks (class 2: LOCK, refresh, UNLOCK, shared and exclusive locks, conditional PUTs with `If`), pass 100%, signed
in over HTTP Basic as the first admin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.conftest import empty_database
from tests.files.dav.litmus import SUITES, assert_all_passed, run_litmus
from tests.serving import Server, serve


@pytest.fixture(scope="module")
async def litmus_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database of its own on the engine under test."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("litmus-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def dav_server(litmus_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: litmus leaves its collection behind (in the trash)."""
    with serve(litmus_database_url, tmp_path_factory.mktemp("litmus")) as running:
        yield running


@pytest.mark.timeout(900)
@pytest.mark.parametrize("suites", [SUITES, ("locks",)], ids=["class-1", "locks"])
def test_litmus_passes_every_test(dav_server: Server, suites: tuple[str, ...]) -> None:
    url = f"{dav_server.url}/dav/files/{dav_server.admin_username}/"
    run = run_litmus(url, dav_server.admin_username, dav_server.admin_password, suites)
    print(run.summary())  # noqa: T201 - the README quotes it
    print(run.failures())  # noqa: T201 - the warnings, if any
    assert_all_passed(run, suites)
