"""The tree's read routes answer with `RowsJSON` (rows written by orjson, no validation pass): the bytes must be
the very ones FastAPI would send through the route's response model, for every kind of value a row can hold.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.files.tree.models import FileNode
from nubes.files.tree.schemas import FilePage, FileRead, FolderListing
from tests.factories import SignedIn

pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)

NAMES = ["Répertoire ☁️ 2026.md", "back \\ slash.txt", "tab\tand <html> & 'quotes'.txt", "plain.txt"]


def as_the_model_writes_it(model: type[BaseModel], body: bytes) -> bytes:
    """What FastAPI would have sent: the body validated by the route's response model, then written by pydantic."""
    return model.model_validate_json(body).__pydantic_serializer__.to_json(model.model_validate_json(body), by_alias=True)


async def test_every_rows_route_answers_what_its_response_model_would(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    made = await client.post("/api/files/folders", json={"name": "Sub ☂", "parent_id": None}, headers=alice.headers)
    assert made.status_code == 201, made.text
    sub = made.json()["id"]
    ids = []
    for name in NAMES:
        answer = await client.post(
            "/api/files/upload",
            params={"parent_id": sub},
            files={"file": (name, b"data " + name.encode(), "text/plain")},
            headers=alice.headers,
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    # A whole second (pydantic drops the zero microseconds), and an empty file.
    await session.execute(
        update(FileNode).where(FileNode.id == uuid.UUID(ids[3])).values(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    )
    await session.commit()
    assert (await client.put(f"/api/files/{ids[0]}/favorite", headers=alice.headers)).status_code == 200
    assert (await client.delete(f"/api/files/{ids[2]}", headers=alice.headers)).status_code == 200

    routes: list[tuple[str, dict[str, str], type[BaseModel]]] = [
        ("/api/files", {"parent_id": sub}, FolderListing),
        ("/api/files", {}, FolderListing),
        (f"/api/files/{ids[0]}", {}, FileRead),
        (f"/api/files/{ids[3]}", {}, FileRead),
        (f"/api/files/{sub}", {}, FileRead),
        ("/api/files/search", {"q": "tab"}, FilePage),
        ("/api/files/recent", {}, FilePage),
        ("/api/files/favorites", {}, FilePage),
        ("/api/trash", {}, FilePage),
    ]
    for path, params, model in routes:
        answer = await client.get(path, params=params, headers=alice.headers)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "application/json"
        assert answer.content == as_the_model_writes_it(model, answer.content), path

    listing = (await client.get("/api/files", params={"parent_id": sub}, headers=alice.headers)).json()
    assert sorted(item["name"] for item in listing["items"]) == sorted(NAMES[:2] + NAMES[3:])
    assert [item["favorite"] for item in listing["items"] if item["id"] == ids[0]] == [True]
    assert listing["path"][0]["kind"] == "root"
    whole_second = (await client.get(f"/api/files/{ids[3]}", headers=alice.headers)).json()
    assert whole_second["created_at"] == "2026-01-02T03:04:05Z"
    trashed = (await client.get("/api/trash", headers=alice.headers)).json()["items"]
    assert trashed[0]["trashed_at"].endswith("Z")
