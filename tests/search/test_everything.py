"""The top bar's search (GET /api/search/everything) on both engines: files by name, documents by their text,
containers and people by name, each group under its own domain's rules and only when the caller's permissions (a
token's scopes) reach it; nothing of another user's private files or of another tenant; wildcards are literal."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.compute.clusters.models import Cluster
from nubes.compute.containers.models import Container
from nubes.compute.eggs.models import Egg, EggCategory
from nubes.compute.nodes.models import Node
from nubes.config import Settings
from nubes.documents.extraction.tasks import ExtractionWorker
from nubes.identity.sessions.models import PersonalAccessToken
from nubes.identity.sessions.tokens import new_personal_token
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from nubes.search.everything import initials
from nubes.search.tasks import Indexer
from tests.documents.conftest import Team, extraction, team, upload_document
from tests.factories import SignedIn, make_user

__all__ = ["extraction", "team"]  # the fixtures, imported for this module


@pytest.fixture
def indexer(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Indexer:
    return Indexer(sessions, lambda: app.state.storage)


async def _settle(extraction: ExtractionWorker, indexer: Indexer) -> None:
    while await extraction.run_due():
        pass
    while await indexer.run_due():
        pass


async def _everything(client: httpx.AsyncClient, headers: dict[str, str], q: str, **params: Any) -> Any:
    response = await client.get("/api/search/everything", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _upload(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes = b"x") -> str:
    response = await client.post("/api/files/upload/raw", params={"name": name}, content=data, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _containers(session: AsyncSession, tenant_id: uuid.UUID, *names: str) -> list[Container]:
    """Containers of a tenant, made as the compute domain stores them (no agent runs in these tests)."""
    tag = uuid.uuid4().hex[:8]
    cluster, category = Cluster(name=f"c-{tag}"), EggCategory(name=f"e-{tag}")
    session.add_all([cluster, category])
    await session.flush()
    node = Node(cluster_id=cluster.id, name=f"n-{tag}", cpu=100, memory_mb=1024, disk_mb=1024)
    egg = Egg(name=f"egg-{tag}", document={}, category_id=category.id)
    session.add_all([node, egg])
    await session.flush()
    made = [
        Container(
            tenant_id=tenant_id, name=name, egg_id=egg.id, node_id=node.id, image="x",
            cpu=10, memory_mb=64, disk_mb=64, startup="true", state="running",
        )
        for name in names
    ]  # fmt: skip
    session.add_all(made)
    await session.flush()
    return made


async def _person(session: AsyncSession, settings: Settings, tenant: Tenant, username: str, display: str) -> User:
    user = await make_user(session, settings, tenant, username=username, email=f"{username}@private.example")
    user.display_name = display
    await session.flush()
    return user


async def _token(session: AsyncSession, user: User, scopes: set[str]) -> dict[str, str]:
    """Bearer headers of a personal access token of `user` with `scopes` (stored as the service stores one)."""
    token, token_hash = new_personal_token()
    session.add(
        PersonalAccessToken(
            tenant_id=user.tenant_id, user_id=user.id, name="probe", token_hash=token_hash, prefix=token[:12],
            scopes=sorted(scopes),
        )
    )  # fmt: skip
    await session.flush()
    return {"Authorization": f"Bearer {token}"}


async def _tenant_of(session: AsyncSession, who: SignedIn) -> Tenant:
    tenant = await session.get(Tenant, who.user.tenant_id)
    assert tenant is not None
    return tenant


async def test_each_group_finds_its_kind_and_nothing_of_anyone_else(  # noqa: PLR0917 (pytest passes fixtures by position)
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    team: Team,
    extraction: ExtractionWorker,
    indexer: Indexer,
) -> None:
    """GIVEN Alice's file and document, containers and people in her tenant and in another one
    WHEN Alice, Bob (same tenant) and Mallory (another tenant) search for the same word
    THEN each finds only what they may open: Alice her file and document, Bob neither, Mallory nothing of theirs."""
    alice, bob, mallory = team.alice, team.bob, team.mallory
    await _upload(client, alice, "zephyr-plan.txt")
    binned = await _upload(client, alice, "zephyr-old.txt")
    assert (await client.delete(f"/api/files/{binned}", headers=alice.headers)).status_code == 200
    document = await upload_document(client, alice, "Quarterly report.txt", b"The zephyr budget for the launch.")
    assert document.status_code == 201, document.text
    await _settle(extraction, indexer)
    tenant, other = await _tenant_of(session, alice), await _tenant_of(session, mallory)
    await _containers(session, tenant.id, "zephyr-web", "database")
    await _containers(session, other.id, "zephyr-theirs")
    colleague = await _person(session, settings, tenant, "zquill", "Zephyr Quill")
    await _person(session, settings, other, "zephyr-outsider", "Zephyr Outsider")

    found = await _everything(client, alice.headers, "zephyr")
    assert [item["name"] for item in found["files"]["items"]] == ["zephyr-plan.txt"]  # not the one in the trash
    assert found["files"]["items"][0]["kind"] == "file"
    assert found["files"]["more"] is False
    documents = found["documents"]
    assert [item["title"] for item in documents["items"]] == ["Quarterly report"]
    assert documents["total"] == 1
    assert documents["more"] is False
    assert documents["items"][0]["document_id"] == document.json()["id"]
    assert {"text": "zephyr", "match": True} in documents["items"][0]["snippet"]
    assert [item["name"] for item in found["containers"]["items"]] == ["zephyr-web"]
    assert found["people"]["items"] == [{"id": str(colleague.id), "name": "Zephyr Quill", "username": "zquill", "initials": "ZQ"}]
    assert "private.example" not in str(found)  # what the sharing picker shows of people, never their email

    # Bob, same tenant: the tenant's containers and people, none of Alice's private files or documents.
    seen_by_bob = await _everything(client, bob.headers, "zephyr")
    assert seen_by_bob["files"]["items"] == []
    assert seen_by_bob["documents"]["items"] == []
    assert seen_by_bob["documents"]["total"] == 0
    assert [item["name"] for item in seen_by_bob["containers"]["items"]] == ["zephyr-web"]

    # Mallory, another tenant: only her tenant's container and person.
    seen_by_mallory = await _everything(client, mallory.headers, "zephyr")
    assert seen_by_mallory["files"]["items"] == []
    assert seen_by_mallory["documents"]["items"] == []
    assert [item["name"] for item in seen_by_mallory["containers"]["items"]] == ["zephyr-theirs"]
    assert [item["username"] for item in seen_by_mallory["people"]["items"]] == ["zephyr-outsider"]
    assert str(colleague.id) not in str(seen_by_mallory)

    # A share opens the document to Bob at once (the documents group is search's own permission-aware query).
    folder = (await client.get(f"/api/files/{document.json()['file_id']}", headers=alice.headers)).json()["parent_id"]
    shared = await client.post(f"/api/files/{folder}/shares", json={"user_id": str(bob.user.id)}, headers=alice.headers)
    assert shared.status_code == 201, shared.text
    assert [item["title"] for item in (await _everything(client, bob.headers, "zephyr"))["documents"]["items"]] == [
        "Quarterly report"
    ]


async def test_each_group_is_limited_and_says_there_is_more(client: httpx.AsyncClient, session: AsyncSession, team: Team) -> None:
    alice = team.alice
    for number in range(7):
        await _upload(client, alice, f"kiwi-{number}.txt")
    await _containers(session, alice.user.tenant_id, *(f"kiwi-{number}" for number in range(3)))

    found = await _everything(client, alice.headers, "kiwi")
    assert [item["name"] for item in found["files"]["items"]] == [f"kiwi-{number}.txt" for number in range(5)]
    assert found["files"]["more"] is True
    assert len(found["containers"]["items"]) == 3
    assert found["containers"]["more"] is False

    narrow = await _everything(client, alice.headers, "kiwi", limit=2)
    assert len(narrow["files"]["items"]) == 2
    assert narrow["files"]["more"] is True
    assert len(narrow["containers"]["items"]) == 2
    assert narrow["containers"]["more"] is True


async def test_wildcard_characters_are_literal(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, team: Team
) -> None:
    alice = team.alice
    tenant = await _tenant_of(session, alice)
    await _containers(session, tenant.id, "done_100%", "donex100y", "plain")
    await _person(session, settings, tenant, "under_score", "Under Score")
    await _person(session, settings, tenant, "underxscore", "Underx Score")

    assert [item["name"] for item in (await _everything(client, alice.headers, "%"))["containers"]["items"]] == ["done_100%"]
    assert [item["name"] for item in (await _everything(client, alice.headers, "_"))["containers"]["items"]] == ["done_100%"]
    assert [item["name"] for item in (await _everything(client, alice.headers, "e_1"))["containers"]["items"]] == ["done_100%"]
    people = (await _everything(client, alice.headers, "under_"))["people"]["items"]
    assert [item["username"] for item in people] == ["under_score"]
    for hostile in ['"', "*", "NEAR(a b)", "'--", "a:b", ")(", "tag:", "%_", "\\", "ünïcödé*"]:
        await _everything(client, alice.headers, hostile)  # answered, never failed


async def test_each_group_only_with_its_permission_and_a_token_only_with_its_scopes(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, team: Team
) -> None:
    """A token without documents.read gets no documents group (null), not a 403 for the whole answer; without
    files.read (the search box's own scope) it gets 403 naming the scope."""
    alice = team.alice
    await _upload(client, alice, "melon.txt")
    await _containers(session, alice.user.tenant_id, "melon-box")

    everything = await _token(session, alice.user, {"files.read", "files.share", "documents.read", "containers.read"})
    full = await _everything(client, everything, "melon")
    assert all(full[kind] is not None for kind in ("files", "documents", "containers", "people"))

    no_documents = await _everything(client, await _token(session, alice.user, {"files.read", "containers.read"}), "melon")
    assert no_documents["documents"] is None
    assert no_documents["people"] is None
    assert [item["name"] for item in no_documents["files"]["items"]] == ["melon.txt"]
    assert [item["name"] for item in no_documents["containers"]["items"]] == ["melon-box"]

    files_only = await _everything(client, await _token(session, alice.user, {"files.read"}), "melon")
    assert files_only["documents"] is None
    assert files_only["containers"] is None
    assert files_only["people"] is None

    refused = await client.get(
        "/api/search/everything", params={"q": "melon"}, headers=await _token(session, alice.user, {"documents.read"})
    )
    assert refused.status_code == 403
    assert "files.read" in refused.json()["detail"]

    # A role without a permission: a viewer holds neither files.share nor anything to share with, so no people group.
    viewer = await make_user(session, settings, await _tenant_of(session, alice), roles=("viewer",))
    viewer_token = await _token(session, viewer, {"files.read", "files.share", "documents.read", "containers.read"})
    as_viewer = await _everything(client, viewer_token, "melon")
    assert as_viewer["people"] is None
    assert as_viewer["documents"] is not None
    assert as_viewer["containers"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "a", "limit": 0}, "limit"),
        ({"q": "a", "limit": 21}, "limit"),
        ({}, "q"),
    ],
)
async def test_bad_input_gets_a_422_naming_the_field(
    client: httpx.AsyncClient, team: Team, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/search/everything", params=params, headers=team.alice.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"][-1] == field for error in response.json()["errors"]), response.text


def test_initials_follow_the_avatar() -> None:
    assert initials("Zephyr Quill") == "ZQ"
    assert initials("ada.lovelace") == "AL"
    assert initials("bob") == "BO"
    assert initials("  ") == "?"


async def test_files_are_found_by_their_content_too_your_own_only(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, indexer: Indexer
) -> None:
    """After the name matches, the files group lists files of yours whose content holds the words, with a snippet;
    a file shared with you is found in Documents' search, not here (its folder is not yours to open)."""
    alice, bob = team.alice, team.bob
    mine = await _upload(client, alice, "minutes.txt", b"we agreed the narwhal budget on monday")
    theirs = await _upload(client, bob, "bob.txt", b"a narwhal of bob's")
    share = await client.post(f"/api/files/{theirs}/shares", json={"user_id": str(alice.user.id)}, headers=bob.headers)
    assert share.status_code == 201, share.text
    await _settle(extraction, indexer)
    found = (await _everything(client, alice.headers, "narwhal"))["files"]["items"]
    assert [item["id"] for item in found] == [mine]
    assert {"text": "narwhal", "match": True} in found[0]["snippet"]
    named = (await _everything(client, alice.headers, "minutes"))["files"]["items"]
    assert [(item["id"], item["snippet"]) for item in named] == [(mine, [])]  # its name matched: no snippet
