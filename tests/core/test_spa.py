"""The web UI is served from the build: hashed assets cached for good, client routes fall back to index.html."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from nubes.main import create_app
from tests.conftest import make_settings

INDEX = "<!doctype html><title>Nubes</title><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A stand-in for web/dist with an index and one hashed asset."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-3f2a9c.js").write_text("console.log('nubes')")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the dist folder")
    return root


async def _client_for(tmp_path: Path, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path / "data", web_dist=dist))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
async def ui(tmp_path: Path, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client_for(tmp_path, dist):
        yield http


async def test_root_serves_index_revalidated(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/files", "/containers/42/console", "/status"])
async def test_client_routes_fall_back_to_index(ui: httpx.AsyncClient, path: str) -> None:
    response = await ui.get(path)
    assert response.status_code == 200
    assert response.text == INDEX


async def test_hashed_assets_are_immutable(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/assets/index-3f2a9c.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "etag" in response.headers


async def test_unhashed_files_are_revalidated(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


async def test_missing_file_is_404_not_the_shell(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/assets/index-old.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"]
)
async def test_paths_never_leave_the_build(ui: httpx.AsyncClient, path: str) -> None:
    response = await ui.get(path)
    assert "outside the dist folder" not in response.text


async def test_api_paths_never_get_the_shell(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/api/nothing/here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_writes_to_ui_paths_are_405(ui: httpx.AsyncClient) -> None:
    response = await ui.post("/files", json={})
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


async def test_missing_build_says_how_to_build_it(tmp_path: Path) -> None:
    async for http in _client_for(tmp_path, tmp_path / "not-built"):
        response = await http.get("/")
        assert response.status_code == 503
        assert "make run" in response.text
        assert (await http.get("/api/health")).status_code == 200
