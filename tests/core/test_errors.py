"""Every error leaves as RFC 9457 problem+json: unknown routes, bad bodies, crashes.

The JSON endpoints under test are mounted by this module on the real app (the foundation has no
JSON-body endpoint of its own yet); they use the same router factory every domain uses.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from nubes.core.db import SessionDep
from nubes.core.errors import PROBLEM_JSON, Conflict
from nubes.core.routing import api_router
from nubes.ops.models import SystemSetting


class Widget(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    size: int = Field(ge=1)


probe = api_router(prefix="/api/probe")


@probe.post("/widgets", operation_id="probe-create")
async def create_widget(widget: Widget) -> Widget:
    return widget


@probe.post("/tiny", operation_id="probe-tiny", max_body_size=16)
async def tiny(widget: Widget) -> Widget:
    return widget


@probe.post("/commit-fails", operation_id="probe-commit-fails")
async def commit_fails(session: SessionDep) -> dict[str, str]:
    # Two rows with one primary key and no flush: the failure comes only at the commit.
    session.add(SystemSetting(key="probe.twice", value=1))
    session.add(SystemSetting(key="probe.twice", value=2))
    return {"status": "written"}


@probe.post("/clash", operation_id="probe-clash")
async def clash() -> None:
    raise Conflict("A widget with that name exists; try 'widget (2)'.")


@probe.post("/echo", operation_id="probe-echo")
async def echo(body: dict[str, str]) -> None:
    # A detail quoting what the client sent inside an encoded field (as WebAuthn's clientDataJSON is),
    # out of reach of the body's own NUL and surrogate check.
    inner = json.loads(base64.b64decode(body["encoded"]))
    raise Conflict(f"Unexpected keys: {', '.join(sorted(inner))}")


@probe.get("/crash", operation_id="probe-crash")
async def crash() -> None:
    message = "secret internals: /srv/nubes/key.pem"
    raise RuntimeError(message)


@pytest.fixture
def probe_client(app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    app.include_router(probe)
    return client


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, object] = response.json()
    assert body["type"] == f"urn:nubes:problem:{kind}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_api_route_is_problem_404(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/does-not-exist"), 404, "not-found")
    assert body["detail"] == "No route matches GET /api/does-not-exist."
    assert body["instance"] == "/api/does-not-exist"


async def test_wrong_method_is_problem_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/health")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET"
    assert response.json()["detail"] == "DELETE is not allowed on /api/health; use GET."


async def test_allow_lists_the_methods_of_every_route_at_the_path(probe_client: httpx.AsyncClient) -> None:
    """Starlette names only the first matching route's methods; Nubes names them all (RFC 9110)."""
    response = await probe_client.put("/api/admin/users")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_valid_json_is_accepted(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/api/probe/widgets", json={"name": "gear", "size": 3})
    assert response.status_code == 200
    assert response.json() == {"name": "gear", "size": 3}


async def test_validation_error_lists_every_bad_field(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/api/probe/widgets", json={"name": "", "size": 0})
    body = assert_problem(response, 422, "validation-error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert sorted(tuple(error["loc"]) for error in errors) == [("body", "name"), ("body", "size")]
    assert all(error["msg"] and error["type"] for error in errors)
    assert body["detail"] == "Check these fields: name, size."


async def test_missing_field_is_named(probe_client: httpx.AsyncClient) -> None:
    body = assert_problem(await probe_client.post("/api/probe/widgets", json={"name": "gear"}), 422, "validation-error")
    assert body["errors"] == [{"loc": ["body", "size"], "msg": "Field required", "type": "missing"}]


async def test_malformed_json_is_400_with_the_position(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/probe/widgets", content=b'{"name": "gear", "size": }', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400, "malformed-json")
    assert body["detail"] == "The request body is not valid JSON: Expecting value at character 25."


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_wrong_content_type_is_415(probe_client: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await probe_client.post("/api/probe/widgets", content=b'{"name": "gear", "size": 3}', headers=headers)
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "send Content-Type: application/json" in str(body["detail"])


async def test_json_suffix_media_types_are_json(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/probe/widgets", content=b'{"name": "gear", "size": 3}', headers={"content-type": "application/merge-patch+json"}
    )
    assert response.status_code == 200


async def test_declared_oversized_body_is_413(probe_client: httpx.AsyncClient, app: FastAPI) -> None:
    limit = app.state.settings.max_body_bytes
    big = b'{"name": "' + b"x" * limit + b'", "size": 1}'
    response = await probe_client.post("/api/probe/widgets", content=big, headers={"content-type": "application/json"})
    assert_problem(response, 413, "payload-too-large")


async def test_streamed_oversized_body_is_413(probe_client: httpx.AsyncClient, app: FastAPI) -> None:
    """GIVEN a chunked body with no Content-Length WHEN it grows past the limit THEN 413, not a read of it all."""
    limit = app.state.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'", "size": 1}'

    response = await probe_client.post("/api/probe/widgets", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


async def test_domain_error_keeps_its_type_and_detail(probe_client: httpx.AsyncClient) -> None:
    body = assert_problem(await probe_client.post("/api/probe/clash"), 409, "conflict")
    assert body["detail"] == "A widget with that name exists; try 'widget (2)'."


async def test_a_detail_quoting_a_lone_surrogate_is_still_a_problem(probe_client: httpx.AsyncClient) -> None:
    # "\\ud800" in JSON is a lone surrogate: valid JSON, but not encodable as UTF-8.
    encoded = base64.b64encode(b'{"\\ud800": 1}').decode()
    response = await probe_client.post("/api/probe/echo", json={"encoded": encoded})
    body = assert_problem(response, 409, "conflict")
    assert body["detail"] == "Unexpected keys: \ud800"


async def test_crash_is_problem_500_without_internals(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/api/probe/crash")
    body = assert_problem(response, 500, "internal-error")
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert str(body["request_id"]) in str(body["detail"])


async def test_request_id_is_kept_when_sane_and_replaced_otherwise(client: httpx.AsyncClient) -> None:
    kept = await client.get("/api/health", headers={"x-request-id": "trace-abc_123.4"})
    assert kept.headers["x-request-id"] == "trace-abc_123.4"
    replaced = await client.get("/api/health", headers={"x-request-id": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/api/health"), await client.get("/api/nope")):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    "body",
    [b'{"name": "ge\\u0000ar", "size": 1}', b'{"name": "\\ud83d", "size": 1}', b'{"name": "ok", "size": 1, "\\u0000": 2}'],
)
async def test_text_no_database_stores_is_422(probe_client: httpx.AsyncClient, body: bytes) -> None:
    """GIVEN a NUL or a lone surrogate in JSON WHEN posted THEN 422 before any handler or driver sees it."""
    response = await probe_client.post("/api/probe/widgets", content=body, headers={"content-type": "application/json"})
    body_problem = assert_problem(response, 422, "validation-error")
    assert "NUL" in str(body_problem["detail"])


async def test_escaped_backslash_u_is_fine(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/probe/widgets", content=b'{"name": "C:\\\\u0000dir", "size": 1}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "C:\\u0000dir"


async def test_nul_in_the_query_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/version?q=%00")
    assert_problem(response, 422, "validation-error")


async def test_a_route_s_own_smaller_limit_also_answers_problem_413(probe_client: httpx.AsyncClient) -> None:
    """GIVEN a route declaring max_body_size=16 WHEN a larger body is declared THEN problem+json, not Starlette's text."""
    response = await probe_client.post("/api/probe/tiny", json={"name": "a-rather-long-name", "size": 1})
    body = assert_problem(response, 413, "payload-too-large")
    assert "at most 16 bytes" in str(body["detail"])


async def test_a_failed_commit_is_never_acknowledged(probe_client: httpx.AsyncClient) -> None:
    """GIVEN a write that fails at commit WHEN the handler returned fine THEN the client gets a 500, not a 200.

    The session commits before the response is sent (a dependency scoped to the function).
    """
    response = await probe_client.post("/api/probe/commit-fails")
    assert response.status_code == 500
    assert "written" not in response.text
