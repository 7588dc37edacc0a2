"""The API contract: every operation has a stable id and documents its problem responses."""

from __future__ import annotations

import httpx

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


async def test_schema_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


async def test_every_operation_has_an_id_and_problem_responses(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert operations
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations:
        assert path.startswith("/api/"), path
        assert "4XX" in operation["responses"], f"{method} {path} does not document its client errors"
        assert "application/problem+json" in operation["responses"]["4XX"]["content"]


async def test_docs_page_loads_its_assets_from_our_origin(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert 'src="/vendor/swagger-ui/swagger-ui-bundle.js"' in page.text
    assert "<script>" not in page.text  # no inline script: the CSP allows none
    init = await client.get("/api/docs/init.js")
    assert init.status_code == 200
    assert "/api/openapi.json" in init.text
