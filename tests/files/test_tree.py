"""The file tree through the API, on both databases: upload, download, move, copy, trash.

What touches blob content runs on both storage backends; names, moves, listings and access do not depend on the
backend (a name never reaches a blob key) and run on the local disk only (`LOCAL_ONLY`).
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import jobs
from nubes.core.audit import AuditEvent
from nubes.core.storage import Storage
from nubes.files.tree.models import FileNameTerm, FileNode
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_user
from tests.files.conftest import blob_keys

LOCAL_ONLY = pytest.mark.parametrize("storage", ["local"], indirect=True)


async def upload(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes, parent_id: str | None = None) -> Any:
    params = {"parent_id": parent_id} if parent_id else {}
    return await client.post("/api/files/upload", params=params, files={"file": (name, data, "text/plain")}, headers=who.headers)


async def folder(client: httpx.AsyncClient, who: SignedIn, name: str, parent_id: str | None = None) -> dict[str, Any]:
    response = await client.post("/api/files/folders", json={"name": name, "parent_id": parent_id}, headers=who.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_upload_list_and_download(client: httpx.AsyncClient, alice: SignedIn) -> None:
    data = b"hello nubes\n" * 1000
    created = await upload(client, alice, "greeting.txt", data)
    assert created.status_code == 201, created.text
    file = created.json()
    assert (file["kind"], file["name"], file["size"]) == ("file", "greeting.txt", len(data))
    assert file["sha256"] == hashlib.sha256(data).hexdigest()

    listing = (await client.get("/api/files", headers=alice.headers)).json()
    assert listing["folder"]["kind"] == "root"
    assert [item["name"] for item in listing["items"]] == ["greeting.txt"]
    assert listing["path"] == []

    download = await client.get(f"/api/files/{file['id']}/content", headers=alice.headers)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["etag"] == f'"{file["sha256"]}"'
    assert download.headers["accept-ranges"] == "bytes"
    assert download.headers["content-length"] == str(len(data))
    assert download.headers["content-disposition"] == "attachment; filename=\"greeting.txt\"; filename*=UTF-8''greeting.txt"


async def test_raw_upload_into_a_folder_with_breadcrumbs(client: httpx.AsyncClient, alice: SignedIn) -> None:
    outer = await folder(client, alice, "Projects")
    inner = await folder(client, alice, "Nubes", outer["id"])
    response = await client.post(
        "/api/files/upload/raw",
        params={"parent_id": inner["id"], "name": "Résumé «final».pdf"},
        content=b"%PDF-1.7 fake",
        headers={**alice.headers, "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "application/pdf"
    listing = (await client.get("/api/files", params={"parent_id": inner["id"]}, headers=alice.headers)).json()
    assert [entry["name"] for entry in listing["path"]] == ["", "Projects"]
    assert [entry["name"] for entry in listing["items"]] == ["Résumé «final».pdf"]
    download = await client.get(f"/api/files/{response.json()['id']}/content", headers=alice.headers)
    # RFC 6266: an ASCII fallback without quotes or backslashes, and the exact name percent-encoded in filename*.
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%C2%ABfinal%C2%BB.pdf"
    )
    assert download.headers["content-type"].startswith("application/pdf")


@LOCAL_ONLY
async def test_folders_come_first_then_names_case_insensitively(client: httpx.AsyncClient, alice: SignedIn) -> None:
    await upload(client, alice, "b.txt", b"b")
    await upload(client, alice, "A.txt", b"a")
    await folder(client, alice, "zeta")
    names = [item["name"] for item in (await client.get("/api/files", headers=alice.headers)).json()["items"]]
    assert names == ["zeta", "A.txt", "b.txt"]


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("existing", "clashing", "suggested"),
    [
        ("report.txt", "report.txt", "report (2).txt"),
        ("Report.TXT", "report.txt", "report (2).txt"),
        ("Cafe\u0301.md", "Café.md", "Café (2).md"),  # NFD on disk, NFC asked: the same name
        (".env", ".env", ".env (2)"),
    ],
)
async def test_a_name_clash_is_409_with_a_free_name(
    client: httpx.AsyncClient, alice: SignedIn, existing: str, clashing: str, suggested: str
) -> None:
    assert (await upload(client, alice, existing, b"1")).status_code == 201
    response = await upload(client, alice, clashing, b"2")
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:nubes:problem:name-taken"
    assert problem["errors"] == [{"loc": ["body", "name"], "msg": suggested, "type": "suggested_name"}]
    assert (await upload(client, alice, suggested, b"2")).status_code == 201


@LOCAL_ONLY
@pytest.mark.parametrize(
    "name",
    [".", "..", "a/b", "../../etc/passwd", "tab\there", "new\nline", "bell\x07", "x" * 256, "é" * 128, "\u0085next"],
)
async def test_bad_names_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, alice: SignedIn, storage: Storage, session: AsyncSession, name: str
) -> None:
    for response in (
        await client.post("/api/files/folders", json={"name": name}, headers=alice.headers),
        await client.post("/api/files/upload/raw", params={"name": name}, content=b"data", headers=alice.headers),
    ):
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert await session.scalar(select(func.count()).select_from(FileNode).where(FileNode.kind != "root")) == 0
    assert await blob_keys(storage) == set()


@LOCAL_ONLY
async def test_nul_in_a_name_is_refused(client: httpx.AsyncClient, alice: SignedIn) -> None:
    response = await client.post("/api/files/folders", json={"name": "a\u0000b"}, headers=alice.headers)
    assert response.status_code == 422
    raw = await client.post("/api/files/upload/raw?name=a%00b", content=b"x", headers=alice.headers)
    assert raw.status_code == 422


@LOCAL_ONLY
async def test_names_that_look_like_traversal_are_just_names(
    client: httpx.AsyncClient, alice: SignedIn, storage: Storage
) -> None:
    """GIVEN names such as `%2e%2e` and `..\\..\\x` WHEN uploaded THEN they are stored as literal names, nothing escapes."""
    for name in ("%2e%2e", "..\\..\\evil", "...", " .. ", "255-" + "b" * 251):
        response = await upload(client, alice, name, b"literal")
        assert response.status_code == 201, (name, response.text)
        assert response.json()["name"] == name
    assert len(await blob_keys(storage)) == 5
    # A traversal attempt in the URL is not a route, whatever it decodes to.
    assert (await client.get("/api/files/..%2f..%2fetc%2fpasswd/content", headers=alice.headers)).status_code in {404, 422}


@LOCAL_ONLY
async def test_move_rename_and_no_cycles(client: httpx.AsyncClient, alice: SignedIn) -> None:
    a = await folder(client, alice, "a")
    b = await folder(client, alice, "b", a["id"])
    c = await folder(client, alice, "c", b["id"])
    for target in (a, b, c):
        response = await client.patch(f"/api/files/{a['id']}", json={"parent_id": target["id"]}, headers=alice.headers)
        assert response.status_code == 422, response.text
    file = (await upload(client, alice, "f.txt", b"f", c["id"])).json()
    moved = await client.patch(f"/api/files/{file['id']}", json={"parent_id": None, "name": "g.txt"}, headers=alice.headers)
    assert moved.status_code == 200, moved.text
    root = (await client.get("/api/files", headers=alice.headers)).json()
    assert moved.json()["parent_id"] == root["folder"]["id"]
    assert sorted(item["name"] for item in root["items"]) == ["a", "g.txt"]
    clash = await client.patch(f"/api/files/{file['id']}", json={"name": "A"}, headers=alice.headers)
    assert clash.status_code == 409
    # A move into a file is refused; moving where it already is changes nothing.
    assert (await client.patch(f"/api/files/{a['id']}", json={"parent_id": file["id"]}, headers=alice.headers)).status_code == 422
    assert (await client.patch(f"/api/files/{file['id']}", json={"name": "g.txt"}, headers=alice.headers)).status_code == 200


async def test_copy_a_folder_with_its_files(client: httpx.AsyncClient, alice: SignedIn, storage: Storage) -> None:
    source = await folder(client, alice, "src")
    sub = await folder(client, alice, "sub", source["id"])
    await upload(client, alice, "one.txt", b"one", source["id"])
    await upload(client, alice, "two.txt", b"two", sub["id"])
    copied = await client.post(f"/api/files/{source['id']}/copy", json={}, headers=alice.headers)
    assert copied.status_code == 201, copied.text
    assert copied.json()["name"] == "src (2)"
    top = (await client.get("/api/files", params={"parent_id": copied.json()["id"]}, headers=alice.headers)).json()
    assert [item["name"] for item in top["items"]] == ["sub", "one.txt"]
    inner = (await client.get("/api/files", params={"parent_id": top["items"][0]["id"]}, headers=alice.headers)).json()
    two = inner["items"][0]
    assert (await client.get(f"/api/files/{two['id']}/content", headers=alice.headers)).content == b"two"
    assert len(await blob_keys(storage)) == 4  # copies are real copies: purging one never touches the other
    into_itself = await client.post(f"/api/files/{source['id']}/copy", json={"parent_id": sub["id"]}, headers=alice.headers)
    assert into_itself.status_code == 422
    quota = (await client.get("/api/users/me/quota", headers=alice.headers)).json()
    assert quota["used_bytes"] == 12


async def test_trash_restore_and_purge(
    client: httpx.AsyncClient, alice: SignedIn, storage: Storage, session: AsyncSession
) -> None:
    box = await folder(client, alice, "box")
    inside = (await upload(client, alice, "inside.txt", b"12345", box["id"])).json()
    deleted = await client.delete(f"/api/files/{box['id']}", headers=alice.headers)
    assert deleted.status_code == 200
    assert deleted.json()["trashed_at"] is not None
    assert (await client.get("/api/files", headers=alice.headers)).json()["items"] == []
    assert (await client.get(f"/api/files/{inside['id']}", headers=alice.headers)).status_code == 404
    assert (await client.get("/api/files/search", params={"q": "inside"}, headers=alice.headers)).json()["items"] == []
    trash = (await client.get("/api/trash", headers=alice.headers)).json()
    assert [item["name"] for item in trash["items"]] == ["box"]
    # The name is free again while the old one is in the trash; restoring then clashes with a suggestion.
    await folder(client, alice, "box")
    clash = await client.post(f"/api/trash/{box['id']}/restore", headers=alice.headers)
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["msg"] == "box (2)"
    restored = await client.post(f"/api/trash/{box['id']}/restore", json={"name": "box (2)"}, headers=alice.headers)
    assert restored.status_code == 200, restored.text
    assert (await client.get(f"/api/files/{inside['id']}/content", headers=alice.headers)).content == b"12345"

    assert (await client.delete(f"/api/files/{box['id']}", headers=alice.headers)).status_code == 200
    quota = (await client.get("/api/users/me/quota", headers=alice.headers)).json()
    assert (quota["used_bytes"], quota["trash_bytes"]) == (5, 5)  # trash counts, and is shown as such
    assert (await client.delete(f"/api/trash/{box['id']}", headers=alice.headers)).status_code == 204
    await jobs.wait_for_after_commit()
    assert await blob_keys(storage) == set()
    assert (await client.get("/api/users/me/quota", headers=alice.headers)).json()["used_bytes"] == 0
    assert (await client.get("/api/trash", headers=alice.headers)).json()["total"] == 0
    actions = set(await session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == alice.user.id)))
    assert {"files.trash", "files.restore", "files.purge"} <= actions


@LOCAL_ONLY
async def test_a_separately_trashed_child_stays_in_the_trash(client: httpx.AsyncClient, alice: SignedIn) -> None:
    box = await folder(client, alice, "box")
    child = (await upload(client, alice, "child.txt", b"c", box["id"])).json()
    await client.delete(f"/api/files/{child['id']}", headers=alice.headers)
    await client.delete(f"/api/files/{box['id']}", headers=alice.headers)
    await client.post(f"/api/trash/{box['id']}/restore", headers=alice.headers)
    assert (await client.get("/api/files", params={"parent_id": box["id"]}, headers=alice.headers)).json()["items"] == []
    assert [item["name"] for item in (await client.get("/api/trash", headers=alice.headers)).json()["items"]] == ["child.txt"]


async def test_versions_keep_old_content_and_restore_it(client: httpx.AsyncClient, alice: SignedIn) -> None:
    file = (await upload(client, alice, "doc.txt", b"first")).json()
    for body in (b"second!", b"third!!!"):
        response = await client.put(f"/api/files/{file['id']}/content", content=body, headers=alice.headers)
        assert response.status_code == 200, response.text
    assert response.json()["version_no"] == 3
    versions = (await client.get(f"/api/files/{file['id']}/versions", headers=alice.headers)).json()
    assert [(v["version_no"], v["size"]) for v in versions] == [(2, 7), (1, 5)]
    old = await client.get(f"/api/files/{file['id']}/versions/{versions[1]['id']}/content", headers=alice.headers)
    assert old.content == b"first"
    restored = await client.post(f"/api/files/{file['id']}/versions/{versions[1]['id']}/restore", headers=alice.headers)
    assert restored.json()["version_no"] == 4
    assert (await client.get(f"/api/files/{file['id']}/content", headers=alice.headers)).content == b"first"
    quota = (await client.get("/api/users/me/quota", headers=alice.headers)).json()
    assert (quota["used_bytes"], quota["versions_bytes"], quota["trash_bytes"]) == (5 + 7 + 8 + 5, 5 + 7 + 8, 0)
    assert (await client.put(f"/api/files/{uuid.uuid4()}/content", content=b"x", headers=alice.headers)).status_code == 404


@LOCAL_ONLY
async def test_search_recent_and_favorites(client: httpx.AsyncClient, alice: SignedIn) -> None:
    for name in ("Quarterly Report 2026.pdf", "report-final.docx", "notes.txt", "Répertoire.md"):
        await upload(client, alice, name, b"x")

    async def found(q: str) -> list[str]:
        response = await client.get("/api/files/search", params={"q": q}, headers=alice.headers)
        assert response.status_code == 200
        return [item["name"] for item in response.json()["items"]]

    assert await found("rep") == ["Quarterly Report 2026.pdf", "report-final.docx"]
    assert await found("REPORT quart") == ["Quarterly Report 2026.pdf"]
    assert await found("final") == ["report-final.docx"]
    assert await found("répert") == ["Répertoire.md"]
    assert await found("eport") == []  # word prefixes, not substrings
    assert await found("!!!") == []
    renamed = (await client.get("/api/files/search", params={"q": "notes"}, headers=alice.headers)).json()["items"][0]
    await client.patch(f"/api/files/{renamed['id']}", json={"name": "diary.txt"}, headers=alice.headers)
    assert await found("notes") == []
    assert await found("diary") == ["diary.txt"]

    recent = (await client.get("/api/files/recent", headers=alice.headers)).json()["items"]
    assert recent[0]["name"] == "diary.txt"
    assert (await client.put(f"/api/files/{renamed['id']}/favorite", headers=alice.headers)).json()["favorite"] is True
    assert [item["name"] for item in (await client.get("/api/files/favorites", headers=alice.headers)).json()["items"]] == [
        "diary.txt"
    ]
    assert (await client.delete(f"/api/files/{renamed['id']}/favorite", headers=alice.headers)).json()["favorite"] is False
    assert (await client.get("/api/files/favorites", headers=alice.headers)).json()["items"] == []


@LOCAL_ONLY
async def test_search_follows_trash_restore_renames_copies_and_purges(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    """GIVEN named files in folders WHEN they are trashed, restored, renamed, copied, purged THEN search follows at once.

    The name index holds live nodes only and is changed in the same transaction as the tree.
    """

    async def found(q: str) -> list[str]:
        response = await client.get("/api/files/search", params={"q": q}, headers=alice.headers)
        assert response.status_code == 200
        return [item["name"] for item in response.json()["items"]]

    projects = await folder(client, alice, "Projects")
    deep = await folder(client, alice, "deep", projects["id"])
    plan = (await upload(client, alice, "alpha plan.txt", b"x", projects["id"])).json()
    notes = (await upload(client, alice, "alpha notes.txt", b"x", deep["id"])).json()
    alone = (await upload(client, alice, "alpha alone.txt", b"x", deep["id"])).json()
    assert await found("alpha") == ["alpha alone.txt", "alpha notes.txt", "alpha plan.txt"]

    await client.delete(f"/api/files/{alone['id']}", headers=alice.headers)  # trashed on its own first
    await client.delete(f"/api/files/{projects['id']}", headers=alice.headers)
    assert await found("alpha") == []
    assert await found("projects") == []
    restored = await client.post(f"/api/trash/{projects['id']}/restore", json={"name": "Work"}, headers=alice.headers)
    assert restored.status_code == 200, restored.text
    assert await found("alpha") == ["alpha notes.txt", "alpha plan.txt"]  # what was trashed on its own stays out
    assert await found("work") == ["Work"]
    assert await found("projects") == []

    await client.patch(f"/api/files/{plan['id']}", json={"name": "beta plan.txt"}, headers=alice.headers)
    await client.patch(f"/api/files/{notes['id']}", json={"parent_id": projects["id"]}, headers=alice.headers)
    assert await found("alpha") == ["alpha notes.txt"]
    assert await found("plan") == ["beta plan.txt"]
    copied = await client.post(f"/api/files/{projects['id']}/copy", json={"name": "Copy"}, headers=alice.headers)
    assert copied.status_code == 201, copied.text
    assert await found("plan") == ["beta plan.txt", "beta plan.txt"]

    await client.delete(f"/api/files/{projects['id']}", headers=alice.headers)
    assert (await client.delete(f"/api/trash/{projects['id']}", headers=alice.headers)).status_code == 204
    assert await found("plan") == ["beta plan.txt"]  # the copy's
    left = await session.scalar(
        select(func.count())
        .select_from(FileNameTerm)
        .where(FileNameTerm.node_id.in_([uuid.UUID(plan["id"]), uuid.UUID(notes["id"])]))
    )
    assert left == 0


@LOCAL_ONLY
async def test_search_counts_a_node_once_finds_punctuation_names_and_stops_at_fifty(
    client: httpx.AsyncClient, alice: SignedIn
) -> None:
    """GIVEN names two of whose words start alike, names of punctuation and 55 matches WHEN searched THEN as pinned."""

    async def found(q: str) -> list[str]:
        return [
            item["name"]
            for item in (await client.get("/api/files/search", params={"q": q}, headers=alice.headers)).json()["items"]
        ]

    await folder(client, alice, "report reporting")
    await folder(client, alice, "!!! loud")
    await folder(client, alice, "-dash-")
    await folder(client, alice, "a!!!")
    assert await found("rep") == ["report reporting"]
    assert await found("!!!") == ["!!! loud"]
    assert await found("-") == ["-dash-"]
    assert await found("loud") == ["!!! loud"]
    for number in range(55):
        await folder(client, alice, f"many {number:02d}")
    many = await found("many")
    assert many == [f"many {number:02d}" for number in range(50)]


async def test_the_favorite_flag_shows_wherever_a_node_does(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a starred folder and a starred file in it WHEN listed, fetched and found THEN each shows `favorite`."""
    outer = await folder(client, alice, "outer")
    inner = await folder(client, alice, "inner", outer["id"])
    starred = (await upload(client, alice, "starred note.txt", b"x", inner["id"])).json()
    plain = (await upload(client, alice, "plain note.txt", b"x", inner["id"])).json()
    for node_id in (outer["id"], starred["id"]):
        assert (await client.put(f"/api/files/{node_id}/favorite", headers=alice.headers)).status_code == 200

    listing = (await client.get("/api/files", params={"parent_id": inner["id"]}, headers=alice.headers)).json()
    assert listing["folder"]["favorite"] is False
    assert [(entry["name"], entry["favorite"]) for entry in listing["path"]] == [("", False), ("outer", True)]
    assert [(item["name"], item["favorite"]) for item in listing["items"]] == [
        ("plain note.txt", False),
        ("starred note.txt", True),
    ]
    assert (await client.get(f"/api/files/{starred['id']}", headers=alice.headers)).json()["favorite"] is True
    assert (await client.get(f"/api/files/{plain['id']}", headers=alice.headers)).json()["favorite"] is False
    found = (await client.get("/api/files/search", params={"q": "note"}, headers=alice.headers)).json()["items"]
    assert [(item["name"], item["favorite"]) for item in found] == [("plain note.txt", False), ("starred note.txt", True)]
    root = (await client.get("/api/files", headers=alice.headers)).json()
    assert [(item["name"], item["favorite"]) for item in root["items"]] == [("outer", True)]


async def test_a_page_counts_every_entry_even_past_the_end(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a folder of two folders and three files WHEN paged THEN folders come first and `total` counts them all."""
    parent = await folder(client, alice, "paged")
    for name in ("b", "a"):
        await folder(client, alice, name, parent["id"])
    for name in ("z.txt", "y.txt", "x.txt"):
        await upload(client, alice, name, b"x", parent["id"])

    async def page(limit: int, offset: int) -> tuple[list[str], int]:
        params: dict[str, Any] = {"parent_id": parent["id"], "limit": limit, "offset": offset}
        body = (await client.get("/api/files", params=params, headers=alice.headers)).json()
        return [item["name"] for item in body["items"]], body["total"]

    assert await page(3, 0) == (["a", "b", "x.txt"], 5)
    assert await page(3, 3) == (["y.txt", "z.txt"], 5)
    assert await page(3, 5) == ([], 5)
    assert await page(3, 50) == ([], 5)
    empty = await folder(client, alice, "empty", parent["id"])
    listing = (await client.get("/api/files", params={"parent_id": empty["id"]}, headers=alice.headers)).json()
    assert (listing["items"], listing["total"]) == ([], 0)


async def test_a_folder_downloads_as_a_zip(client: httpx.AsyncClient, alice: SignedIn) -> None:
    top = await folder(client, alice, "album")
    sub = await folder(client, alice, "2026", top["id"])
    await upload(client, alice, "a.txt", b"A" * 300_000, top["id"])
    await upload(client, alice, "b.txt", b"B", sub["id"])
    await upload(client, alice, "..\\escape.txt", b"E", sub["id"])
    await folder(client, alice, "empty", top["id"])
    response = await client.get(f"/api/files/{top['id']}/content", headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''album.zip" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == ["2026/", "2026/.._escape.txt", "2026/b.txt", "a.txt", "empty/"]
    assert archive.read("a.txt") == b"A" * 300_000
    assert archive.read("2026/b.txt") == b"B"


@LOCAL_ONLY
async def test_other_users_files_are_not_found(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    file = (await upload(client, alice, "secret.txt", b"s")).json()
    tenant = await session.get_one(Tenant, alice.user.tenant_id)
    bob = await login(client, await make_user(session, settings, tenant))
    for method, url in (
        ("GET", f"/api/files/{file['id']}"),
        ("GET", f"/api/files/{file['id']}/content"),
        ("DELETE", f"/api/files/{file['id']}"),
        ("GET", f"/api/files?parent_id={file['parent_id']}"),
    ):
        assert (await client.request(method, url, headers=bob.headers)).status_code == 404, url
    assert (await client.get("/api/files/search", params={"q": "secret"}, headers=bob.headers)).json()["items"] == []


@LOCAL_ONLY
async def test_viewers_cannot_write(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    tenant = await session.get_one(Tenant, alice.user.tenant_id)
    viewer = await login(client, await make_user(session, settings, tenant, roles=("viewer",)))
    assert (await client.get("/api/files", headers=viewer.headers)).status_code == 200
    assert (await upload(client, viewer, "x.txt", b"x")).status_code == 403
    assert (await client.post("/api/files/folders", json={"name": "x"}, headers=viewer.headers)).status_code == 403
