"""The app data store through its rules and its API: grants per app, revisions, bounded bodies, bulk, quota."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.data import service
from nubes.apps.data.feed import FeedHub
from nubes.apps.data.models import DataChange, DataCollection, DataDocument
from nubes.apps.oauth import service as oauth
from nubes.config import Settings
from nubes.core.errors import Forbidden, NotFound
from nubes.core.events import Bus
from nubes.core.principal import Principal
from nubes.core.storage import LocalStorage
from nubes.files.quota import service as quota
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from tests.factories import SignedIn, login, make_tenant, make_user

BASE = "/api/apps/data/me/posts"


@pytest.fixture
async def user(session: AsyncSession, settings: Settings) -> User:
    return await make_user(session, settings, await make_tenant(session))


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, user: User) -> SignedIn:
    return await login(client, user)


def acting(user: User, *, client_id: str | None = None, grants: frozenset[str] = frozenset()) -> Principal:
    """The user, or an app acting for them with `grants` (as an app token makes it)."""
    return Principal(
        user_id=user.id, tenant_id=user.tenant_id, username=user.username, permissions=frozenset({"apps.use"}),
        credential="token" if client_id else "session", client_id=client_id, grants=grants,
    )  # fmt: skip


async def put(
    session: AsyncSession, settings: Settings, principal: Principal, *, name: str, key: str, body: dict[str, object]
) -> DataDocument:
    storage = LocalStorage(settings.data_dir / "blobs", secret="test")
    written = await service.write(
        session=session, settings=settings, storage=storage, feeds=FeedHub(Bus()), principal=principal, space="me",
        name=name, writes=[service.Write(key, None, service.encode(body))],
    )  # fmt: skip
    return written[0]


async def test_an_app_reaches_only_the_collections_it_is_granted(session: AsyncSession, settings: Settings, user: User) -> None:
    """GIVEN app A granted data:write:posts and app B granted nothing on posts (only its own notes)
    WHEN each reaches for posts
    THEN A writes and reads; for B posts does not exist (404, not 403), in lists too; the user sees both apps' data."""
    app_a = acting(user, client_id="app-a", grants=frozenset({"data:write:posts"}))
    app_b = acting(user, client_id="app-b", grants=frozenset({"data:write:notes"}))
    await put(session, settings, app_a, name="posts", key="hello", body={"title": "Hello"})
    await put(session, settings, app_b, name="notes", key="n1", body={"text": "mine"})

    document = await service.get_document(session=session, principal=app_a, space="me", name="posts", key="hello")
    assert service.decode(document) == {"title": "Hello"}
    with pytest.raises(NotFound):
        await service.get_document(session=session, principal=app_b, space="me", name="posts", key="hello")
    with pytest.raises(NotFound):
        await service.get_collection(session=session, principal=app_b, space="me", name="posts")
    with pytest.raises(NotFound):
        await put(session, settings, app_b, name="posts", key="intruder", body={"x": 1})
    assert [each.name for each in await service.list_collections(session=session, principal=app_b)] == ["notes"]
    assert [each.name for each in await service.list_collections(session=session, principal=app_a)] == ["posts"]

    mine = await service.list_collections(session=session, principal=acting(user))
    assert {(each.name, each.client_id) for each in mine} == {("posts", "app-a"), ("notes", "app-b")}


async def test_app_tokens_reach_only_their_granted_collections_through_the_api(
    client: httpx.AsyncClient, session: AsyncSession, user: User, signed_in: SignedIn
) -> None:
    """GIVEN two real app tokens of the user: one granted data:write:posts, the other nothing on posts
    WHEN both call the API
    THEN the first writes, reads and follows the feed; the second gets 404 on posts and its changes, and its list is
    empty; the user's own session sees the collection and which app made it."""
    granted = await oauth.issue_app_token(
        session=session, tenant_id=user.tenant_id, user_id=user.id, client_id="app-a", scopes=["data:write:posts"]
    )
    other = await oauth.issue_app_token(
        session=session, tenant_id=user.tenant_id, user_id=user.id, client_id="app-b", scopes=["data:read:notes"]
    )
    as_a, as_b = {"Authorization": f"Bearer {granted}"}, {"Authorization": f"Bearer {other}"}
    assert (await client.put(f"{BASE}/docs/first", json={"title": "Hi"}, headers=as_a)).status_code == 200
    assert (await client.get(f"{BASE}/docs/first", headers=as_a)).json()["body"] == {"title": "Hi"}
    assert [change["key"] for change in (await client.get(f"{BASE}/changes", headers=as_a)).json()["results"]] == ["first"]

    for method, path in (("GET", "/docs/first"), ("GET", "/changes"), ("GET", "/docs"), ("PUT", "/docs/second")):
        refused = await client.request(method, f"{BASE}{path}", json={} if method == "PUT" else None, headers=as_b)
        assert refused.status_code == 404, f"{method} {path}: {refused.text}"
    assert (await client.delete(BASE, headers=as_b)).status_code == 404
    assert (await client.get("/api/apps/data/collections", headers=as_b)).json()["items"] == []
    mine = (await client.get("/api/apps/data/collections", headers=signed_in.headers)).json()["items"]
    assert [(each["name"], each["client_id"]) for each in mine] == [("posts", "app-a")]


async def test_a_read_grant_reads_but_does_not_write(session: AsyncSession, settings: Settings, user: User) -> None:
    await put(session, settings, acting(user), name="posts", key="p", body={"v": 1})
    reader = acting(user, client_id="reader", grants=frozenset({"data:read:posts"}))
    assert (await service.get_collection(session=session, principal=reader, space="me", name="posts")).name == "posts"
    with pytest.raises(Forbidden):
        await put(session, settings, reader, name="posts", key="q", body={"v": 2})
    blob_only = acting(user, client_id="blobs", grants=frozenset({"blob:read:posts"}))
    with pytest.raises(Forbidden):  # it may know the collection (it reads its attachments), not its documents
        await service.get_collection(session=session, principal=blob_only, space="me", name="posts")


async def test_revisions_conflict_and_deletes_need_the_current_one(client: httpx.AsyncClient, signed_in: SignedIn) -> None:
    headers = signed_in.headers
    created = await client.put(f"{BASE}/docs/a", json={"n": 1}, headers=headers)
    assert created.status_code == 200, created.text
    first = created.json()["rev"]
    assert first.startswith("1-")
    assert created.headers["etag"] == f'"{first}"'

    again = await client.put(f"{BASE}/docs/a", json={"n": 2}, headers=headers)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:nubes:problem:revision-conflict"
    assert again.json()["current_rev"] == first

    updated = await client.put(f"{BASE}/docs/a", json={"n": 2}, headers={**headers, "If-Match": f'"{first}"'})
    assert updated.status_code == 200
    second = updated.json()["rev"]
    assert second.startswith("2-")

    stale = await client.put(f"{BASE}/docs/a", params={"rev": first}, json={"n": 3}, headers=headers)
    assert stale.status_code == 409
    assert stale.json()["current_rev"] == second
    stale_delete = await client.delete(f"{BASE}/docs/a", params={"rev": first}, headers=headers)
    assert stale_delete.status_code == 409
    assert stale_delete.json()["current_rev"] == second
    no_rev_delete = await client.delete(f"{BASE}/docs/a", headers=headers)
    assert no_rev_delete.status_code == 409

    got = await client.get(f"{BASE}/docs/a", headers=headers)
    assert got.json()["body"] == {"n": 2}
    deleted = await client.delete(f"{BASE}/docs/a", headers={**headers, "If-Match": second})
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] is True
    gone = await client.get(f"{BASE}/docs/a", headers=headers)
    assert gone.status_code == 404
    assert gone.json()["current_rev"] == deleted.json()["rev"]
    back = await client.put(f"{BASE}/docs/a", json={"n": 4}, headers=headers)  # a tombstone is recreated without a rev
    assert back.status_code == 200
    assert back.json()["rev"].startswith("4-")

    feed = (await client.get(f"{BASE}/changes", headers=headers)).json()
    assert [change["seq"] for change in feed["results"]] == [1, 2, 3, 4]
    assert [change["deleted"] for change in feed["results"]] == [False, False, True, False]
    assert feed["last_seq"] == 4
    assert feed["pending"] == 0
    later = (await client.get(f"{BASE}/changes", params={"since": 2, "limit": 1}, headers=headers)).json()
    assert [change["seq"] for change in later["results"]] == [3]
    assert later["pending"] == 1


async def _nothing_written(session: AsyncSession) -> bool:
    tables = (DataCollection, DataDocument, DataChange)
    counts = [await session.scalar(select(func.count()).select_from(table)) for table in tables]
    return counts == [0, 0, 0]


async def test_deep_or_huge_json_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, signed_in: SignedIn, session: AsyncSession
) -> None:
    deep: dict[str, object] = {}
    inner = deep
    for _ in range(40):
        inner["d"] = {}
        inner = inner["d"]  # type: ignore[assignment]
    assert (await client.put(f"{BASE}/docs/deep", json=deep, headers=signed_in.headers)).status_code == 422
    very_deep = "[" * 100_000 + "]" * 100_000
    refused = await client.put(
        f"{BASE}/docs/deeper", content=very_deep, headers={**signed_in.headers, "Content-Type": "application/json"}
    )
    assert refused.status_code in {413, 422}
    huge = {"text": "x" * (1 << 20)}
    assert (await client.put(f"{BASE}/docs/huge", json=huge, headers=signed_in.headers)).status_code == 413
    assert (await client.put(f"{BASE}/docs/..", json={}, headers=signed_in.headers)).status_code in {404, 405, 422}
    bad_key = await client.put("/api/apps/data/me/posts/docs/a%20b", json={}, headers=signed_in.headers)
    assert bad_key.status_code == 422
    assert await _nothing_written(session)


async def test_a_bulk_write_is_all_or_nothing(client: httpx.AsyncClient, signed_in: SignedIn, session: AsyncSession) -> None:
    headers = signed_in.headers
    made = await client.post(
        f"{BASE}/bulk", json={"docs": [{"key": "a", "body": {"n": 1}}, {"key": "b", "body": {"n": 2}}]}, headers=headers
    )
    assert made.status_code == 200, made.text
    assert [item["seq"] for item in made.json()["items"]] == [1, 2]
    rev_a = made.json()["items"][0]["rev"]
    refused = await client.post(
        f"{BASE}/bulk",
        json={"docs": [{"key": "a", "rev": rev_a, "body": {"n": 3}}, {"key": "c", "body": {}}, {"key": "b", "body": {}}]},
        headers=headers,
    )
    assert refused.status_code == 409
    assert refused.json()["key"] == "b"
    feed = (await client.get(f"{BASE}/changes", headers=headers)).json()
    assert feed["last_seq"] == 2
    assert (await client.get(f"{BASE}/docs/c", headers=headers)).status_code == 404
    same_key = {"docs": [{"key": "z", "body": {}}, {"key": "z", "body": {}}]}
    twice = await client.post(f"{BASE}/bulk", json=same_key, headers=headers)
    assert twice.status_code == 422
    many = {"docs": [{"key": f"k{number}", "body": {}} for number in range(101)]}
    too_many = await client.post(f"{BASE}/bulk", json=many, headers=headers)
    assert too_many.status_code == 422
    listed = (await client.get(f"{BASE}/docs", params={"limit": 1}, headers=headers)).json()
    assert [item["key"] for item in listed["items"]] == ["a"]
    assert listed["next_after"] == "a"
    rest = (await client.get(f"{BASE}/docs", params={"after": "a"}, headers=headers)).json()
    assert [item["key"] for item in rest["items"]] == ["b"]
    assert rest["next_after"] is None


async def test_past_the_quota_a_write_gets_413_and_writes_nothing(
    client: httpx.AsyncClient, signed_in: SignedIn, session: AsyncSession, settings: Settings, user: User
) -> None:
    await quota.set_user_quota(session=session, tenant_id=user.tenant_id, user_id=user.id, quota_bytes=100)
    refused = await client.put(f"{BASE}/docs/big", json={"text": "x" * 200}, headers=signed_in.headers)
    assert refused.status_code == 413, refused.text
    assert refused.json()["type"] == "urn:nubes:problem:quota-exceeded"
    assert await _nothing_written(session)
    fits = await client.put(f"{BASE}/docs/small", json={"text": "x" * 50}, headers=signed_in.headers)
    assert fits.status_code == 200
    collections = (await client.get("/api/apps/data/collections", headers=signed_in.headers)).json()["items"]
    assert [(each["name"], each["documents"], each["bytes"]) for each in collections] == [("posts", 1, fits.json()["size"])]
    deleted = await client.delete(f"{BASE}/docs/small", params={"rev": fits.json()["rev"]}, headers=signed_in.headers)
    assert deleted.status_code == 200
    principal = acting(user)
    assert (await quota.usage(session=session, settings=settings, principal=principal))[0] == 0


async def test_attachments_round_trip_count_in_the_quota_and_go_with_the_document(
    client: httpx.AsyncClient, signed_in: SignedIn, session: AsyncSession, user: User, settings: Settings
) -> None:
    headers = signed_in.headers
    made = (await client.put(f"{BASE}/docs/album", json={"title": "Album"}, headers=headers)).json()
    payload = bytes(range(256)) * 40
    where = f"{BASE}/docs/album/attachments/cover.jpg"
    stored = await client.put(where, content=payload, headers={**headers, "Content-Type": "image/jpeg"})
    assert stored.status_code == 200, stored.text
    assert stored.json()["size"] == len(payload)
    assert stored.json()["ready"] is True
    # An attachment is part of its document: a new revision, a change in the feed, and the old revision is stale.
    current = stored.json()["document_rev"]
    assert current.startswith("2-")
    assert (await client.get(f"{BASE}/docs/album", headers=headers)).json()["rev"] == current
    feed = (await client.get(f"{BASE}/changes", params={"since": 0}, headers=headers)).json()["results"]
    assert [(change["key"], change["rev"]) for change in feed] == [("album", made["rev"]), ("album", current)]
    stale = await client.put(f"{BASE}/docs/album", params={"rev": made["rev"]}, json={"title": "x"}, headers=headers)
    assert stale.status_code == 409
    got = await client.get(where, headers=headers)
    assert got.status_code == 200
    assert got.content == payload
    assert got.headers["content-type"] == "image/jpeg"
    offer = await client.post(f"{where}/presign-upload", json={"size": 3}, headers=headers)
    assert offer.status_code == 201
    assert offer.json()["finalize"] is False
    assert offer.json()["url"].endswith("/api/apps/data/me/posts/docs/album/attachments/cover.jpg")
    link = (await client.get(f"{where}/download-url", headers=headers)).json()
    assert link["url"].endswith("/attachments/cover.jpg")

    principal = acting(user)
    used = (await quota.usage(session=session, settings=settings, principal=principal))[0]
    assert used == len(payload) + made["size"]
    await quota.set_user_quota(session=session, tenant_id=user.tenant_id, user_id=user.id, quota_bytes=used + 10)
    blobs_before = sorted(path.name for path in (settings.data_dir / "blobs").rglob("*") if path.is_file())
    too_big = await client.put(f"{BASE}/docs/album/attachments/raw.bin", content=b"y" * 100, headers=headers)
    assert too_big.status_code == 413
    blobs_after = sorted(path.name for path in (settings.data_dir / "blobs").rglob("*") if path.is_file())
    assert blobs_after == blobs_before
    names = (await client.get(f"{BASE}/docs/album/attachments", headers=headers)).json()["items"]
    assert [each["name"] for each in names] == ["cover.jpg"]
    await client.put(f"{BASE}/docs/album/attachments/back.jpg", content=b"back", headers=headers)
    dropped = await client.delete(f"{BASE}/docs/album/attachments/back.jpg", headers=headers)
    assert dropped.status_code == 204
    current = dropped.headers["etag"].strip('"')
    assert current.startswith("4-")
    assert (await client.get(f"{BASE}/changes", params={"since": 0}, headers=headers)).json()["last_seq"] == 4

    deleted = await client.delete(f"{BASE}/docs/album", params={"rev": current}, headers=headers)
    assert deleted.status_code == 200
    assert (await client.get(where, headers=headers)).status_code == 404
    assert (await quota.usage(session=session, settings=settings, principal=principal))[0] == 0


async def test_deleting_a_collection_removes_everything_in_it(
    client: httpx.AsyncClient, signed_in: SignedIn, session: AsyncSession
) -> None:
    await client.put(f"{BASE}/docs/a", json={"n": 1}, headers=signed_in.headers)
    await client.put(f"{BASE}/docs/a/attachments/f.txt", content=b"hello", headers=signed_in.headers)
    assert (await client.delete(BASE, headers=signed_in.headers)).status_code == 204
    assert (await client.get(f"{BASE}/docs", headers=signed_in.headers)).status_code == 404
    assert (await client.delete(BASE, headers=signed_in.headers)).status_code == 404
    assert await _nothing_written(session)


async def test_a_cursor_from_before_the_collection_was_made_again_is_told_to_start_over(
    client: httpx.AsyncClient, signed_in: SignedIn
) -> None:
    """GIVEN a client at seq 3 of a collection WHEN the collection is deleted and made again (its feed starts at 1) THEN
    its next read, long-poll or stream with since=3 is a 410 `feed-reset` naming the last seq, not a wait for seq 4 that
    would never show the new writes; from since=0 it reads them."""
    for key in ("a", "b", "c"):
        await client.put(f"{BASE}/docs/{key}", json={"n": key}, headers=signed_in.headers)
    cursor = (await client.get(f"{BASE}/changes", headers=signed_in.headers)).json()["last_seq"]
    assert cursor == 3
    assert (await client.delete(BASE, headers=signed_in.headers)).status_code == 204
    await client.put(f"{BASE}/docs/new", json={"n": 1}, headers=signed_in.headers)
    for feed in ("normal", "longpoll", "eventsource"):
        reset = await client.get(f"{BASE}/changes", params={"since": cursor, "feed": feed}, headers=signed_in.headers)
        assert reset.status_code == 410, (feed, reset.text)
        assert reset.json()["type"] == "urn:nubes:problem:feed-reset"
        assert reset.json()["last_seq"] == 1
    again = (await client.get(f"{BASE}/changes", params={"since": 0}, headers=signed_in.headers)).json()
    assert [change["key"] for change in again["results"]] == ["new"]
    long_poll: dict[str, str | float] = {"since": 1, "feed": "longpoll", "timeout": 0.1}
    current = await client.get(f"{BASE}/changes", params=long_poll, headers=signed_in.headers)
    assert current.status_code == 200
    assert current.json()["results"] == []


async def test_shared_collections_are_written_by_managers_and_read_by_members(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, user: User
) -> None:
    tenant = await session.get(Tenant, user.tenant_id)
    assert tenant is not None
    admin = await login(client, await make_user(session, settings, tenant, roles=("admin",)))
    member = await login(client, user)
    shared = "/api/apps/data/shared/handbook"
    refused = await client.put(f"{shared}/docs/intro", json={"t": 1}, headers=member.headers)
    assert refused.status_code == 403
    assert (await client.put(f"{shared}/docs/intro", json={"t": 1}, headers=admin.headers)).status_code == 200
    read = await client.get(f"{shared}/docs/intro", headers=member.headers)
    assert read.status_code == 200
    assert read.json()["body"] == {"t": 1}
    spaces = (await client.get("/api/apps/data/collections", headers=member.headers)).json()["items"]
    assert [(each["space"], each["name"]) for each in spaces] == [("shared", "handbook")]
    someone_else = await client.get(f"/api/apps/data/{uuid.uuid4()}/posts/docs", headers=member.headers)
    assert someone_else.status_code == 404
