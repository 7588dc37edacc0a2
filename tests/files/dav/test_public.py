"""Public links over WebDAV (`/public.php/dav/files/<token>/`, `/public.php/webdav/`), on both databases: each kind of
link allows what its page allows and nothing more, with its password, limits and audit."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.audit import AuditEvent
from tests.factories import SignedIn
from tests.files.dav.test_dav import prop, responses
from tests.files.test_links import file_of, make_link
from tests.files.test_tree import folder, upload

pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)

SECRET = "correct horse battery staple"


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


async def shared_folder(client: httpx.AsyncClient, alice: SignedIn) -> dict[str, Any]:
    """Alice's folder `shared` holding `a.txt` and `sub/b.txt`, next to a private `secret.txt` at her root."""
    top = await folder(client, alice, "shared")
    sub = await folder(client, alice, "sub", top["id"])
    for name, data, parent in (("a.txt", b"alpha", top["id"]), ("b.txt", b"beta", sub["id"]), ("secret.txt", b"no", None)):
        answer = await upload(client, alice, name, data, parent_id=parent)
        assert answer.status_code == 201, answer.text
    return top


async def test_a_view_link_lists_and_reads_below_its_folder_and_nothing_else(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a view link of a folder WHEN a client without an account lists and reads it THEN it sees the folder's tree,
    gets the bytes, never the owner's quota, never anything above (`..` refused, other names not found), and cannot
    write, lock, move or change properties."""
    top = await shared_folder(client, alice)
    link = await make_link(client, alice, top["id"], kind="view")
    base = f"/public.php/dav/files/{link['token']}"
    listed = responses(await client.request("PROPFIND", base + "/", headers={"Depth": "1"}))
    assert sorted(listed) == sorted([f"{base}/", f"{base}/a.txt", f"{base}/sub/"])
    root = listed[f"{base}/"]
    assert prop(root, "quota-used-bytes") is None
    deep = responses(await client.request("PROPFIND", base + "/sub/", headers={"Depth": "1"}))
    assert f"{base}/sub/b.txt" in deep
    assert (await client.get(base + "/sub/b.txt")).content == b"beta"
    assert (await client.get(base + "/secret.txt")).status_code == 404
    assert (await client.get(base + "/../secret.txt")).status_code in {400, 404}
    assert (await client.get(base + "/sub/%2e%2e/secret.txt")).status_code in {400, 404}
    for method, path in (("PUT", "/new.txt"), ("MKCOL", "/new"), ("DELETE", "/a.txt"), ("PROPPATCH", "/a.txt"),
                         ("MOVE", "/a.txt"), ("LOCK", "/a.txt")):  # fmt: skip
        refused = await client.request(method, base + path, content=b"x" if method == "PUT" else b"")
        assert refused.status_code == 405, (method, refused.text)
        assert "view link" in refused.json()["detail"]
    options = await client.request("OPTIONS", base + "/")
    assert options.headers["allow"] == "OPTIONS, PROPFIND, GET, HEAD"


async def test_a_password_goes_in_basic_on_either_mount_and_a_wrong_one_is_refused_and_audited(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    top = await shared_folder(client, alice)
    link = await make_link(client, alice, top["id"], kind="view", password=SECRET)
    base = f"/public.php/dav/files/{link['token']}"
    asked = await client.request("PROPFIND", base + "/", headers={"Depth": "0"})
    assert asked.status_code == 401
    assert asked.headers["www-authenticate"].startswith("Basic")
    wrong = await client.get(base + "/a.txt", headers=basic("anyone", "guess"))
    assert wrong.status_code == 401
    assert (await client.get(base + "/a.txt", headers=basic("anyone", SECRET))).content == b"alpha"
    # The older mount: the token is the username.
    assert (await client.get("/public.php/webdav/a.txt", headers=basic(link["token"], SECRET))).content == b"alpha"
    assert (await client.get("/public.php/webdav/a.txt", headers=basic(link["token"], "guess"))).status_code == 401
    assert (await client.get("/public.php/webdav/a.txt")).status_code == 401
    denied = await session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "files.link.access", AuditEvent.target_id == link["id"])
    )
    assert [detail["reason"] for detail in denied].count("wrong password") == 2


async def test_a_download_limit_counts_webdav_downloads_and_an_expired_link_is_gone(
    client: httpx.AsyncClient, alice: SignedIn
) -> None:
    file = await file_of(client, alice, "once.txt", b"only once")
    link = await make_link(client, alice, file["id"], kind="view", max_downloads=1)
    base = f"/public.php/dav/files/{link['token']}"
    assert (await client.request("HEAD", base)).status_code == 200  # a HEAD is no download
    assert (await client.get(base)).content == b"only once"
    assert (await client.get(base)).status_code == 410


async def test_an_edit_link_writes_inside_its_folder_only(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN an edit link of a folder WHEN a client uploads, replaces, makes a folder and deletes through it THEN the
    owner sees it all (the replaced content a version, the deleted file in the trash); the link's own folder cannot be
    deleted, and nothing outside it can be reached."""
    top = await shared_folder(client, alice)
    link = await make_link(client, alice, top["id"], kind="edit")
    base = f"/public.php/dav/files/{link['token']}"
    assert (await client.put(base + "/new.txt", content=b"new")).status_code == 201
    assert (await client.put(base + "/a.txt", content=b"alpha 2")).status_code == 204
    assert (await client.request("MKCOL", base + "/made")).status_code == 201
    assert (await client.put(base + "/made/c.txt", content=b"c")).status_code == 201
    assert (await client.delete(base + "/sub/b.txt")).status_code == 204
    assert (await client.delete(base + "/")).status_code == 403
    assert (await client.put(base + "/missing/x.txt", content=b"x")).status_code == 409
    listing = (await client.get(f"/api/files?parent_id={top['id']}", headers=alice.headers)).json()
    assert {item["name"] for item in listing["items"]} == {"a.txt", "made", "new.txt", "sub"}
    a_file = next(item for item in listing["items"] if item["name"] == "a.txt")
    versions = (await client.get(f"/api/files/{a_file['id']}/versions", headers=alice.headers)).json()
    assert len(versions) == 1
    trash = (await client.get("/api/trash", headers=alice.headers)).json()
    assert "b.txt" in {item["name"] for item in trash["items"]}


async def test_a_drop_box_takes_files_into_its_folder_and_shows_nothing(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a drop box WHEN a client puts files THEN they land in its folder (a taken name gets the next free one, the
    existing file untouched); it cannot list, read, or put anywhere else."""
    top = await shared_folder(client, alice)
    link = await make_link(client, alice, top["id"], kind="upload")
    base = f"/public.php/dav/files/{link['token']}"
    assert (await client.put(base + "/dropped.txt", content=b"d")).status_code == 201
    assert (await client.put(base + "/a.txt", content=b"not over alpha")).status_code == 201
    listed = responses(await client.request("PROPFIND", base + "/", headers={"Depth": "1"}))
    assert list(listed) == [f"{base}/"]  # its folder alone
    assert (await client.request("PROPFIND", base + "/a.txt", headers={"Depth": "0"})).status_code == 404
    assert (await client.get(base + "/a.txt")).status_code == 405
    assert (await client.put(base + "/sub/x.txt", content=b"x")).status_code == 403
    listing = (await client.get(f"/api/files?parent_id={top['id']}", headers=alice.headers)).json()
    names = {item["name"] for item in listing["items"]}
    assert {"dropped.txt", "a.txt", "a (2).txt"} <= names
    alpha = next(item for item in listing["items"] if item["name"] == "a.txt")
    assert (await client.get(f"/api/files/{alpha['id']}/content", headers=alice.headers)).content == b"alpha"


async def test_a_revoked_or_unknown_link_is_not_found(client: httpx.AsyncClient, alice: SignedIn) -> None:
    top = await shared_folder(client, alice)
    link = await make_link(client, alice, top["id"], kind="view")
    base = f"/public.php/dav/files/{link['token']}"
    assert (await client.get(base + "/a.txt")).status_code == 200
    deleted = await client.delete(f"/api/files/{top['id']}/links/{link['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    assert (await client.get(base + "/a.txt")).status_code == 404
    assert (await client.request("PROPFIND", "/public.php/dav/files/not-a-token/", headers={"Depth": "0"})).status_code == 404
