"""The routing index (core/routing.py index_routes): routers turn away paths they cannot match, and nothing else changes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from nubes.core.routing import api_router, index_routes


def _app() -> FastAPI:
    """Three routers as the domains have them: literal paths, a path parameter, a WebSocket, a late router."""
    first, second = api_router(prefix="/things", tags=["t"]), api_router(prefix="/other", tags=["t"])

    @first.get("/{thing_id}", operation_id="things-get")
    async def get_thing(thing_id: int) -> dict[str, int]:
        return {"thing": thing_id}

    @second.get("/list", operation_id="other-list")
    async def other_list() -> dict[str, str]:
        return {"other": "list"}

    @second.delete("/{name}", operation_id="other-delete")
    async def other_delete(name: str) -> dict[str, str]:
        return {"deleted": name}

    app = FastAPI()
    app.include_router(first, prefix="/api")
    app.include_router(second, prefix="/api")
    index_routes(app.router)
    return app


async def _get(app: FastAPI, method: str, path: str, root_path: str = "") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


async def test_every_router_still_answers_its_paths() -> None:
    """GIVEN an indexed app WHEN each router's paths are asked THEN each answers as without the index."""
    app = _app()
    assert (await _get(app, "GET", "/api/things/7")).json() == {"thing": 7}
    assert (await _get(app, "GET", "/api/other/list")).json() == {"other": "list"}
    assert (await _get(app, "DELETE", "/api/other/x")).json() == {"deleted": "x"}


async def test_a_wrong_method_is_still_405_and_an_unknown_path_404() -> None:
    """GIVEN an indexed app THEN a known path with another method is 405 (a partial match), an unknown one 404."""
    app = _app()
    assert (await _get(app, "POST", "/api/other/list")).status_code == 405
    assert (await _get(app, "GET", "/api/nothing/here")).status_code == 404
    assert (await _get(app, "GET", "/api/things/not-a-number")).status_code == 422


async def test_under_a_root_path_the_prefixes_are_those_of_the_route_path() -> None:
    """GIVEN the app mounted under a root path (behind a proxy) THEN routing ignores the root path, as Starlette does."""
    app = _app()
    response = await _get(app, "GET", "/prefix/api/things/3", root_path="/prefix")
    assert response.json() == {"thing": 3}


async def test_a_router_that_gains_routes_later_serves_them() -> None:
    """GIVEN an indexed app with a router without a prefix WHEN that router gains a route afterwards THEN it is served."""
    loose = api_router(tags=["t"])

    @loose.get("/alpha", operation_id="loose-alpha")
    async def alpha() -> dict[str, str]:
        return {"loose": "alpha"}

    app = _app()
    app.include_router(loose, prefix="/api")
    index_routes(app.router)
    assert (await _get(app, "GET", "/api/alpha")).json() == {"loose": "alpha"}  # the index is built

    @loose.get("/beta", operation_id="loose-beta")
    async def beta() -> dict[str, str]:
        return {"loose": "beta"}

    assert (await _get(app, "GET", "/api/beta")).json() == {"loose": "beta"}


async def test_the_real_app_answers_health_and_a_problem_for_an_unknown_api_path(client: httpx.AsyncClient) -> None:
    """GIVEN the real app (indexed in create_app) THEN the last router's route answers, and an unknown path is a problem."""
    assert (await client.get("/api/health")).json() == {"status": "ok"}
    assert (await client.post("/api/health")).status_code == 405
    missing = await client.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
