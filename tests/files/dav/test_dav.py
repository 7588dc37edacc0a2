"""WebDAV through the app on both databases: each method, properties, and the rules it shares with the REST API."""

from __future__ import annotations

import base64
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import defusedxml.ElementTree as SafeET
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.principal import Principal
from nubes.core.storage import Storage
from nubes.files.dav import service as dav_service
from nubes.files.dav.models import DavProperty
from nubes.files.quota import service as quota
from nubes.files.tree.models import FileNode
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.schemas import AccessTokenCreate
from tests.factories import ORIGIN, PASSWORD, SignedIn, login, make_tenant, make_user
from tests.files.conftest import blob_keys

LOCAL_ONLY = pytest.mark.parametrize("storage", ["local"], indirect=True)
NS = {"d": "DAV:"}
LITMUS_NS = "http://example.com/neon/litmus/"


def url(who: SignedIn, path: str = "") -> str:
    return f"/dav/files/{who.user.username}/{path}"


async def call(client: httpx.AsyncClient, who: SignedIn, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    headers = {**who.headers, **kwargs.pop("headers", {})}
    return await client.request(method, url(who, path), headers=headers, **kwargs)


# The names tests/files/dav/test_locks.py imports.
dav = url
request = call


def responses(answer: httpx.Response) -> dict[str, ET.Element]:
    """The multistatus' responses by href."""
    assert answer.status_code == 207, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    root = SafeET.fromstring(answer.content)
    return {str(response.findtext("d:href", namespaces=NS)): response for response in root.findall("d:response", NS)}


def prop(response: ET.Element, name: str, status: int = 200) -> ET.Element | None:
    """The property `name` (Clark notation or a DAV: local name) in the propstat of `status`."""
    tag = name if name.startswith("{") else f"{{DAV:}}{name}"
    for propstat in response.findall("d:propstat", NS):
        if f" {status} " in str(propstat.findtext("d:status", namespaces=NS)):
            found = propstat.find(f"d:prop/{tag}", NS)
            if found is not None:
                return found
    return None


async def token_for(session: AsyncSession, who: SignedIn, scopes: list[str]) -> str:
    """A personal access token of `who` with `scopes` (what an app password carries)."""
    principal = Principal(
        user_id=who.user.id,
        tenant_id=who.user.tenant_id,
        username=who.user.username,
        permissions=frozenset({"files.read", "files.write", "files.share"}),
    )
    _, token = await sessions_service.create_access_token(
        session=session, principal=principal, token_in=AccessTokenCreate(name="dav", scopes=scopes), origin=ORIGIN
    )
    await session.flush()
    return token


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


PROPFIND_ALL = b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>'


# --- access ------------------------------------------------------------------------------------------------------


@LOCAL_ONLY
async def test_every_method_needs_credentials_and_challenges_for_basic(client: httpx.AsyncClient, alice: SignedIn) -> None:
    for method in ("OPTIONS", "PROPFIND", "GET", "HEAD", "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK"):
        answer = await client.request(method, url(alice, "x"))
        assert answer.status_code == 401, (method, answer.text)
        assert answer.headers["www-authenticate"].startswith('Basic realm="Nubes"')


@LOCAL_ONLY
async def test_a_browser_cookie_is_not_a_credential(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a signed-in browser WHEN a page makes it call WebDAV THEN the cookie does nothing (no CSRF through /dav)."""
    answer = await client.request("PROPFIND", url(alice), headers={"Cookie": f"nubes_access={alice.access_token}"})
    assert answer.status_code == 401


@LOCAL_ONLY
async def test_basic_auth_with_a_token_as_password_and_bearer_both_work(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    token = await token_for(session, alice, ["files.read", "files.write"])
    answer = await client.request("PROPFIND", url(alice), headers={**basic(alice.user.username, token), "Depth": "0"})
    assert answer.status_code == 207, answer.text
    answer = await client.request("PROPFIND", url(alice), headers={"Authorization": f"Bearer {token}", "Depth": "0"})
    assert answer.status_code == 207, answer.text
    wrong = await client.request("PROPFIND", url(alice), headers={**basic(alice.user.username, token + "x"), "Depth": "0"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")
    garbage = await client.request("PROPFIND", url(alice), headers={"Authorization": "Basic !!!", "Depth": "0"})
    assert garbage.status_code == 401


@LOCAL_ONLY
async def test_only_ones_own_tree_is_reachable(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, alice: SignedIn
) -> None:
    bob = await login(client, await make_user(session, settings, await make_tenant(session), username="bob-elsewhere"))
    colleague = await login(client, await make_user(session, settings, await _tenant(session, alice)))
    assert (await call(client, bob, "PUT", "secret.txt", content=b"bob's")).status_code == 201
    assert (await call(client, colleague, "PUT", "secret.txt", content=b"colleague's")).status_code == 201
    for other in (bob, colleague):
        for method in ("PROPFIND", "GET", "PUT", "DELETE"):
            answer = await client.request(method, url(other, "secret.txt"), headers={**alice.headers, "Depth": "0"})
            assert answer.status_code == 403, (method, answer.text)
    assert (await call(client, bob, "GET", "secret.txt")).content == b"bob's"


async def _tenant(session: AsyncSession, who: SignedIn) -> Any:
    from nubes.identity.tenants.models import Tenant  # noqa: PLC0415 - only this helper needs it

    return await session.get(Tenant, who.user.tenant_id)


@LOCAL_ONLY
async def test_a_viewer_reads_but_cannot_write(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> None:
    tenant = await make_tenant(session)
    viewer = await login(client, await make_user(session, settings, tenant, roles=("viewer",)))
    assert (await call(client, viewer, "PROPFIND", headers={"Depth": "1"})).status_code == 207
    for method in ("PUT", "MKCOL", "DELETE", "PROPPATCH"):
        answer = await call(client, viewer, method, "new")
        assert answer.status_code == 403, (method, answer.text)


@LOCAL_ONLY
async def test_a_token_without_files_write_cannot_write(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    token = await token_for(session, alice, ["files.read"])
    headers = basic(alice.user.username, token)
    assert (await client.request("PROPFIND", url(alice), headers={**headers, "Depth": "0"})).status_code == 207
    answer = await client.request("PUT", url(alice, "a.txt"), headers=headers, content=b"x")
    assert answer.status_code == 403
    assert "files.write" in answer.json()["detail"]


# --- OPTIONS, PROPFIND -----------------------------------------------------------------------------------------


@LOCAL_ONLY
async def test_options_announces_class_2(client: httpx.AsyncClient, alice: SignedIn) -> None:
    answer = await call(client, alice, "OPTIONS")
    assert answer.status_code == 200
    assert answer.headers["dav"] == "1, 2"
    assert {"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"} <= set(answer.headers["allow"].split(", "))


@LOCAL_ONLY
async def test_propfind_shows_live_properties(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "MKCOL", "docs")).status_code == 201
    put = await call(client, alice, "PUT", "docs/report.pdf", content=b"%PDF-1.4 hello")
    assert put.status_code == 201
    found = responses(await call(client, alice, "PROPFIND", "docs/", headers={"Depth": "1"}, content=PROPFIND_ALL))
    assert list(found) == [url(alice, "docs/"), url(alice, "docs/report.pdf")]
    folder, file = found[url(alice, "docs/")], found[url(alice, "docs/report.pdf")]
    resourcetype = prop(folder, "resourcetype")
    assert resourcetype is not None
    assert resourcetype.find("d:collection", NS) is not None
    assert prop(file, "getcontentlength") is not None
    assert prop(file, "getcontentlength").text == "14"  # type: ignore[union-attr]
    assert prop(file, "getcontenttype").text == "application/pdf"  # type: ignore[union-attr]
    assert prop(file, "getetag").text == put.headers["etag"]  # type: ignore[union-attr]
    assert prop(file, "displayname").text == "report.pdf"  # type: ignore[union-attr]
    assert prop(file, "getlastmodified").text.endswith("GMT")  # type: ignore[union-attr]
    assert prop(file, "creationdate").text.endswith("Z")  # type: ignore[union-attr]
    assert prop(file, "supportedlock") is not None
    assert prop(file, "lockdiscovery") is not None
    # RFC 4331: the quota properties only when asked for
    assert prop(folder, "quota-used-bytes") is None


@LOCAL_ONLY
async def test_propfind_of_named_properties_answers_404_for_unknown_ones(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "PUT", "a.txt", content=b"abc")).status_code == 201
    body = (
        b'<d:propfind xmlns:d="DAV:" xmlns:x="urn:x"><d:prop><d:getcontentlength/><x:nothing/>'
        b"<d:quota-used-bytes/><d:quota-available-bytes/></d:prop></d:propfind>"
    )
    found = responses(await call(client, alice, "PROPFIND", "", headers={"Depth": "1"}, content=body))
    file = found[url(alice, "a.txt")]
    assert prop(file, "getcontentlength").text == "3"  # type: ignore[union-attr]
    assert prop(file, "{urn:x}nothing", 404) is not None
    root = found[url(alice)]
    assert int(prop(root, "quota-used-bytes").text or "") >= 3  # type: ignore[union-attr]
    assert prop(root, "quota-available-bytes", 404) is not None  # no quota: unlimited, not a number
    names = responses(
        await call(
            client, alice, "PROPFIND", "a.txt", headers={"Depth": "0"}, content=b'<propfind xmlns="DAV:"><propname/></propfind>'
        )
    )
    assert prop(names[url(alice, "a.txt")], "getetag") is not None


@LOCAL_ONLY
async def test_propfind_depth_infinity_is_refused_with_the_precondition(client: httpx.AsyncClient, alice: SignedIn) -> None:
    answer = await call(client, alice, "PROPFIND", headers={"Depth": "infinity"})
    assert answer.status_code == 403
    assert SafeET.fromstring(answer.content).find("d:propfind-finite-depth", NS) is not None
    assert (await call(client, alice, "PROPFIND", headers={"Depth": "2"})).status_code == 400
    assert (await call(client, alice, "PROPFIND", "missing", headers={"Depth": "0"})).status_code == 404


@LOCAL_ONLY
async def test_propfind_of_a_large_folder_streams_every_child_page_by_page(
    client: httpx.AsyncClient, alice: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN more children than a page WHEN PROPFIND depth 1 THEN every child comes once, read a page at a time."""
    monkeypatch.setattr(dav_service, "PAGE", 4)
    assert (await call(client, alice, "MKCOL", "many")).status_code == 201
    for number in range(11):
        assert (await call(client, alice, "PUT", f"many/f{number:02}.txt", content=b"x")).status_code == 201
    found = responses(await call(client, alice, "PROPFIND", "many", headers={"Depth": "1"}))
    assert list(found) == [url(alice, "many/")] + [url(alice, f"many/f{number:02}.txt") for number in range(11)]


@LOCAL_ONLY
async def test_hrefs_are_percent_encoded_nfc(client: httpx.AsyncClient, alice: SignedIn) -> None:
    decomposed = unicodedata.normalize("NFD", "Café #1 100%.txt")
    assert (await call(client, alice, "PUT", quote(decomposed), content=b"x")).status_code == 201
    found = responses(await call(client, alice, "PROPFIND", headers={"Depth": "1"}))
    expected = url(alice, quote(unicodedata.normalize("NFC", "Café #1 100%.txt"), safe=""))
    assert expected in found, list(found)
    assert "%23" in expected
    assert "%25" in expected
    assert "%20" in expected
    assert (await client.get(expected, headers=alice.headers)).content == b"x"


@LOCAL_ONLY
async def test_the_nextcloud_paths_are_the_same_tree(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "PUT", "n.txt", content=b"nc")).status_code == 201
    webdav = await client.request("PROPFIND", "/remote.php/webdav/", headers={**alice.headers, "Depth": "1"})
    assert "/remote.php/webdav/n.txt" in responses(webdav)
    files = f"/remote.php/dav/files/{alice.user.username}/n.txt"
    assert (await client.get(files, headers=alice.headers)).content == b"nc"
    moved = await client.request("MOVE", files, headers={**alice.headers, "Destination": "/remote.php/webdav/m.txt"})
    assert moved.status_code == 201, moved.text
    assert (await call(client, alice, "GET", "m.txt")).content == b"nc"


# --- PROPPATCH and dead properties -------------------------------------------------------------------------------


def propertyupdate(sets: str = "", removes: str = "") -> bytes:
    body = f'<d:propertyupdate xmlns:d="DAV:" xmlns:z="{LITMUS_NS}">'
    if sets:
        body += f"<d:set><d:prop>{sets}</d:prop></d:set>"
    if removes:
        body += f"<d:remove><d:prop>{removes}</d:prop></d:remove>"
    return (body + "</d:propertyupdate>").encode()


@LOCAL_ONLY
async def test_proppatch_stores_dead_properties_and_propfind_returns_them(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "PUT", "p.txt", content=b"x")).status_code == 201
    patched = responses(
        await call(client, alice, "PROPPATCH", "p.txt", content=propertyupdate("<z:color>blue <b>bold</b></z:color>"))
    )
    assert prop(patched[url(alice, "p.txt")], f"{{{LITMUS_NS}}}color") is not None
    body = f'<d:propfind xmlns:d="DAV:" xmlns:z="{LITMUS_NS}"><d:prop><z:color/></d:prop></d:propfind>'.encode()
    found = responses(await call(client, alice, "PROPFIND", "p.txt", headers={"Depth": "0"}, content=body))
    color = prop(found[url(alice, "p.txt")], f"{{{LITMUS_NS}}}color")
    assert color is not None
    assert color.text == "blue "
    assert color[0].text == "bold"
    allprop = responses(await call(client, alice, "PROPFIND", "p.txt", headers={"Depth": "0"}))
    assert prop(allprop[url(alice, "p.txt")], f"{{{LITMUS_NS}}}color") is not None
    removed = await call(client, alice, "PROPPATCH", "p.txt", content=propertyupdate(removes="<z:color/>"))
    assert removed.status_code == 207
    found = responses(await call(client, alice, "PROPFIND", "p.txt", headers={"Depth": "0"}, content=body))
    assert prop(found[url(alice, "p.txt")], f"{{{LITMUS_NS}}}color", 404) is not None


@LOCAL_ONLY
async def test_proppatch_is_all_or_nothing_and_live_properties_are_protected(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    assert (await call(client, alice, "PUT", "p.txt", content=b"x")).status_code == 201
    answer = await call(client, alice, "PROPPATCH", "p.txt", content=propertyupdate("<z:a>1</z:a><d:getetag>forged</d:getetag>"))
    found = responses(answer)[url(alice, "p.txt")]
    assert found.find("d:error/d:cannot-modify-protected-property", NS) is not None
    assert prop(found, "getetag", 403) is not None
    assert prop(found, f"{{{LITMUS_NS}}}a", 424) is not None
    assert await session.scalar(select(func.count()).select_from(DavProperty)) == 0


@LOCAL_ONLY
async def test_dead_properties_follow_copy_and_move_and_go_with_a_purge(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    assert (await call(client, alice, "MKCOL", "src")).status_code == 201
    assert (await call(client, alice, "PUT", "src/inner.txt", content=b"x")).status_code == 201
    for path in ("src", "src/inner.txt"):
        assert (await call(client, alice, "PROPPATCH", path, content=propertyupdate("<z:tag>t</z:tag>"))).status_code == 207
    copied = await call(client, alice, "COPY", "src", headers={"Destination": url(alice, "copy")})
    assert copied.status_code == 201, copied.text
    body = f'<d:propfind xmlns:d="DAV:" xmlns:z="{LITMUS_NS}"><d:prop><z:tag/></d:prop></d:propfind>'.encode()
    found = responses(await call(client, alice, "PROPFIND", "copy", headers={"Depth": "1"}, content=body))
    assert all(prop(response, f"{{{LITMUS_NS}}}tag") is not None for response in found.values()), found
    assert len(found) == 2
    assert await session.scalar(select(func.count()).select_from(DavProperty)) == 4
    moved = await call(client, alice, "MOVE", "copy", headers={"Destination": url(alice, "moved")})
    assert moved.status_code == 201
    found = responses(await call(client, alice, "PROPFIND", "moved/inner.txt", headers={"Depth": "0"}, content=body))
    assert prop(found[url(alice, "moved/inner.txt")], f"{{{LITMUS_NS}}}tag") is not None
    assert (await call(client, alice, "DELETE", "moved")).status_code == 204
    assert (await client.delete("/api/trash", headers=alice.headers)).status_code == 204
    assert await session.scalar(select(func.count()).select_from(DavProperty)) == 2  # the originals' only


# --- GET, HEAD, PUT ----------------------------------------------------------------------------------------------


async def test_get_and_head_with_ranges_and_validators(client: httpx.AsyncClient, alice: SignedIn) -> None:
    put = await call(client, alice, "PUT", "r.bin", content=b"0123456789")
    assert put.status_code == 201
    ranged = await call(client, alice, "GET", "r.bin", headers={"Range": "bytes=2-4"})
    assert ranged.status_code == 206
    assert ranged.content == b"234"
    assert (await call(client, alice, "GET", "r.bin", headers={"If-None-Match": put.headers["etag"]})).status_code == 304
    head = await call(client, alice, "HEAD", "r.bin")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "10"
    assert head.headers["etag"] == put.headers["etag"]
    assert (await call(client, alice, "GET", "missing.bin")).status_code == 404


async def test_put_replaces_content_as_a_new_version(client: httpx.AsyncClient, alice: SignedIn) -> None:
    first = await call(client, alice, "PUT", "v.txt", content=b"one")
    second = await call(client, alice, "PUT", "v.txt", content=b"two")
    assert (first.status_code, second.status_code) == (201, 204)
    assert first.headers["etag"] != second.headers["etag"]
    assert (await call(client, alice, "GET", "v.txt")).content == b"two"
    listing = (await client.get("/api/files", headers=alice.headers)).json()
    file_id = next(item["id"] for item in listing["items"] if item["name"] == "v.txt")
    versions = (await client.get(f"/api/files/{file_id}/versions", headers=alice.headers)).json()
    assert len(versions) == 1


async def test_put_keeps_the_date_its_client_gives_and_new_content_without_one_takes_the_upload_time(
    client: httpx.AsyncClient, alice: SignedIn
) -> None:
    """GIVEN a PUT with `X-OC-Mtime` (what Nextcloud's clients and rclone send) WHEN the file is listed THEN PROPFIND's
    getlastmodified and the REST API's modified_at are that date (so a sync client sees the file unchanged), and the
    answer says `X-OC-MTime: accepted`; a date that is no number is a 400 and nothing is stored; new content without a
    date (a PUT, or an upload through the REST API) shows its upload time again; a copy keeps the content's date."""
    old = 1_577_934_245  # 2020-01-02 03:04:05 UTC
    put = await call(client, alice, "PUT", "dated.txt", content=b"one", headers={"X-OC-Mtime": str(old)})
    assert put.status_code == 201, put.text
    assert put.headers["x-oc-mtime"] == "accepted"
    found = responses(await call(client, alice, "PROPFIND", "dated.txt", headers={"Depth": "0"}))
    assert prop(next(iter(found.values())), "getlastmodified").text == "Thu, 02 Jan 2020 03:04:05 GMT"  # type: ignore[union-attr]
    listing = (await client.get("/api/files", headers=alice.headers)).json()
    dated = next(item for item in listing["items"] if item["name"] == "dated.txt")
    assert dated["modified_at"].startswith("2020-01-02T03:04:05")
    assert not dated["updated_at"].startswith("2020")  # the change marker stays Nubes' own

    copied = await client.post(f"/api/files/{dated['id']}/copy", json={"name": "copy.txt"}, headers=alice.headers)
    assert copied.json()["modified_at"].startswith("2020-01-02T03:04:05")

    for bad in ("yesterday", "nan", "-5", "1e300"):
        refused = await call(client, alice, "PUT", "bad-date.txt", content=b"x", headers={"X-OC-Mtime": bad})
        assert refused.status_code == 400, (bad, refused.text)
    assert (await call(client, alice, "GET", "bad-date.txt")).status_code == 404

    again = await call(client, alice, "PUT", "dated.txt", content=b"two")
    assert again.status_code == 204
    assert "x-oc-mtime" not in again.headers
    found = responses(await call(client, alice, "PROPFIND", "dated.txt", headers={"Depth": "0"}))
    assert "2020" not in prop(next(iter(found.values())), "getlastmodified").text  # type: ignore[operator,union-attr]
    await call(client, alice, "PUT", "dated.txt", content=b"three", headers={"X-OC-Mtime": str(old)})
    replaced = await client.put(f"/api/files/{dated['id']}/content", content=b"four", headers=alice.headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["modified_at"] is None


@LOCAL_ONLY
async def test_put_conditions(client: httpx.AsyncClient, alice: SignedIn) -> None:
    put = await call(client, alice, "PUT", "c.txt", content=b"one")
    etag = put.headers["etag"]
    assert (await call(client, alice, "PUT", "c.txt", content=b"x", headers={"If-None-Match": "*"})).status_code == 412
    assert (await call(client, alice, "PUT", "c.txt", content=b"x", headers={"If-Match": '"nope"'})).status_code == 412
    assert (await call(client, alice, "PUT", "new.txt", content=b"x", headers={"If-Match": "*"})).status_code == 412
    assert (await call(client, alice, "PUT", "c.txt", content=b"two", headers={"If-Match": etag})).status_code == 204
    assert (await call(client, alice, "PUT", "d.txt", content=b"x", headers={"If-None-Match": "*"})).status_code == 201
    assert (await call(client, alice, "PUT", "no/parent.txt", content=b"x")).status_code == 409
    assert (await call(client, alice, "MKCOL", "folder")).status_code == 201
    assert (await call(client, alice, "PUT", "folder", content=b"x")).status_code == 405
    assert (await call(client, alice, "PUT", "", content=b"x")).status_code == 405
    partial = await call(client, alice, "PUT", "c.txt", content=b"x", headers={"Content-Range": "bytes 0-0/3"})
    assert partial.status_code == 400


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_past_the_quota_is_507_and_leaves_nothing(
    client: httpx.AsyncClient, session: AsyncSession, storage: Storage, alice: SignedIn
) -> None:
    await quota.set_user_quota(session=session, tenant_id=alice.user.tenant_id, user_id=alice.user.id, quota_bytes=10)
    await session.flush()
    before = await blob_keys(storage)
    nodes = await session.scalar(select(func.count()).select_from(FileNode))
    big = await call(client, alice, "PUT", "big.bin", content=b"x" * 11)
    assert big.status_code == 507, big.text
    assert "bytes" in big.json()["detail"]
    streamed = await call(client, alice, "PUT", "streamed.bin", content=chunks(b"x" * 6, b"x" * 6))  # no Content-Length
    assert streamed.status_code == 507, streamed.text
    cut = await call(client, alice, "PUT", "cut.bin", content=b"xx", headers={"Content-Length": "5"})
    assert cut.status_code in {400, 507}, cut.text
    assert await blob_keys(storage) == before
    assert await session.scalar(select(func.count()).select_from(FileNode)) == nodes


# --- MKCOL, DELETE -----------------------------------------------------------------------------------------------


@LOCAL_ONLY
async def test_mkcol(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "MKCOL", "a")).status_code == 201
    assert (await call(client, alice, "MKCOL", "a")).status_code == 405
    assert (await call(client, alice, "MKCOL", "x/y")).status_code == 409
    assert (await call(client, alice, "MKCOL", "b", content=b"<x/>", headers={"Content-Type": "text/xml"})).status_code == 415
    assert (await call(client, alice, "MKCOL", "")).status_code == 405


@LOCAL_ONLY
async def test_delete_goes_to_the_trash(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "MKCOL", "gone")).status_code == 201
    assert (await call(client, alice, "PUT", "gone/f.txt", content=b"x")).status_code == 201
    assert (await call(client, alice, "DELETE", "gone")).status_code == 204
    assert (await call(client, alice, "PROPFIND", "gone", headers={"Depth": "0"})).status_code == 404
    trash = (await client.get("/api/trash", headers=alice.headers)).json()
    assert [item["name"] for item in trash["items"]] == ["gone"]
    assert (await call(client, alice, "DELETE", "gone")).status_code == 404
    assert (await call(client, alice, "DELETE", "")).status_code == 403


# --- COPY, MOVE --------------------------------------------------------------------------------------------------


@LOCAL_ONLY
async def test_copy_and_move_with_overwrite(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "PUT", "a.txt", content=b"a")).status_code == 201
    assert (await call(client, alice, "PUT", "b.txt", content=b"b")).status_code == 201
    copy = await call(client, alice, "COPY", "a.txt", headers={"Destination": url(alice, "c.txt")})
    assert copy.status_code == 201
    refused = await call(client, alice, "COPY", "a.txt", headers={"Destination": url(alice, "b.txt"), "Overwrite": "F"})
    assert refused.status_code == 412
    assert (await call(client, alice, "GET", "b.txt")).content == b"b"
    over = await call(client, alice, "MOVE", "a.txt", headers={"Destination": f"http://testserver{url(alice, 'b.txt')}"})
    assert over.status_code == 204, over.text
    assert (await call(client, alice, "GET", "b.txt")).content == b"a"
    assert (await call(client, alice, "GET", "a.txt")).status_code == 404
    trash = (await client.get("/api/trash", headers=alice.headers)).json()
    assert [item["name"] for item in trash["items"]] == ["b.txt"]  # the overwritten one
    case = await call(client, alice, "MOVE", "c.txt", headers={"Destination": url(alice, "C.txt")})
    assert case.status_code == 201, case.text
    found = responses(await call(client, alice, "PROPFIND", headers={"Depth": "1"}))
    assert url(alice, "C.txt") in found
    assert (await call(client, alice, "MOVE", "C.txt", headers={"Destination": url(alice, "nowhere/C.txt")})).status_code == 409


@LOCAL_ONLY
async def test_copy_depth_0_of_a_folder_copies_the_folder_alone(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "MKCOL", "full")).status_code == 201
    assert (await call(client, alice, "PUT", "full/f.txt", content=b"x")).status_code == 201
    shallow = await call(client, alice, "COPY", "full", headers={"Destination": url(alice, "empty"), "Depth": "0"})
    assert shallow.status_code == 201
    assert len(responses(await call(client, alice, "PROPFIND", "empty", headers={"Depth": "1"}))) == 1
    assert (await call(client, alice, "COPY", "full", headers={"Destination": url(alice, "x"), "Depth": "1"})).status_code == 400
    assert (await call(client, alice, "MOVE", "full", headers={"Destination": url(alice, "x"), "Depth": "0"})).status_code == 400


@LOCAL_ONLY
async def test_a_folder_cannot_go_into_itself(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "MKCOL", "loop")).status_code == 201
    assert (await call(client, alice, "MKCOL", "loop/inner")).status_code == 201
    for method in ("MOVE", "COPY"):
        for target in ("loop", "loop/inner/deeper", "LOOP/x"):
            answer = await call(client, alice, method, "loop", headers={"Destination": url(alice, target)})
            assert answer.status_code == 403, (method, target, answer.text)
    assert len(responses(await call(client, alice, "PROPFIND", "loop", headers={"Depth": "1"}))) == 2


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("destination", "status"),
    [
        ("/dav/files/{me}/../bob/x", 403),
        ("/dav/files/{me}/%2e%2e/bob/x", 403),
        ("/dav/files/{me}/a/%2E%2E/%2e%2e/x", 403),
        ("/dav/files/bob/x", 403),
        ("/dav/files/{other}/x", 403),
        ("/remote.php/dav/files/{other}/x", 403),
        ("/api/files/x", 403),
        ("http://elsewhere.example/dav/files/{me}/x", 502),
        ("ftp://testserver/dav/files/{me}/x", 400),
        ("/dav/files/{me}/x?y=1", 400),
        ("/dav/files/{me}/%ff", 400),
        ("/dav/files/{me}/", 403),
        ("", 400),
    ],
)
async def test_hostile_destinations_are_refused_and_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, *, alice: SignedIn, destination: str, status: int
) -> None:
    other = await make_user(session, settings, await make_tenant(session), username="victim")
    assert (await call(client, alice, "PUT", "mine.txt", content=b"x")).status_code == 201
    before = await session.scalar(select(func.count()).select_from(FileNode))
    target = destination.format(me=alice.user.username, other=other.username)
    for method in ("COPY", "MOVE"):
        answer = await call(client, alice, method, "mine.txt", headers={"Destination": target} if target else {})
        assert answer.status_code == status, (method, target, answer.text)
    assert await session.scalar(select(func.count()).select_from(FileNode)) == before
    assert (await call(client, alice, "GET", "mine.txt")).content == b"x"


@LOCAL_ONLY
async def test_traversal_in_the_request_path_is_refused(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "PUT", "a.txt", content=b"x")).status_code == 201
    answer = await client.request("PROPFIND", url(alice, "%2e%2e/a.txt"), headers={**alice.headers, "Depth": "0"})
    assert answer.status_code == 400


# --- hostile XML -------------------------------------------------------------------------------------------------

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<d:propfind xmlns:d="DAV:"><d:prop><d:getetag>&lol3;</d:getetag></d:prop></d:propfind>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x xmlns="urn:x">&xxe;</x></d:prop></d:set></d:propertyupdate>"""


@LOCAL_ONLY
async def test_xml_bombs_external_entities_and_huge_bodies_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    assert (await call(client, alice, "PUT", "a.txt", content=b"x")).status_code == 201
    bomb = await call(client, alice, "PROPFIND", "a.txt", headers={"Depth": "0"}, content=BOMB)
    assert bomb.status_code == 400
    assert "DTD" in bomb.json()["detail"]
    xxe = await call(client, alice, "PROPPATCH", "a.txt", content=XXE)
    assert xxe.status_code == 400
    deep = (
        b'<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>'
        + b"<a>" * 100
        + b"</a>" * 100
        + b"</d:prop></d:set></d:propertyupdate>"
    )
    assert (await call(client, alice, "PROPPATCH", "a.txt", content=deep)).status_code == 400
    huge = b'<d:propfind xmlns:d="DAV:"><d:allprop/>' + b" " * (300 * 1024) + b"</d:propfind>"
    assert (await call(client, alice, "PROPFIND", "a.txt", headers={"Depth": "0"}, content=huge)).status_code == 413
    broken = await call(client, alice, "PROPFIND", "a.txt", headers={"Depth": "0"}, content=b"<d:propfind")
    assert broken.status_code == 400
    wrong = await call(client, alice, "PROPFIND", "a.txt", headers={"Depth": "0"}, content=b"<other/>")
    assert wrong.status_code == 400
    assert await session.scalar(select(func.count()).select_from(DavProperty)) == 0


@LOCAL_ONLY
async def test_a_dead_property_too_large_is_refused(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "PUT", "a.txt", content=b"x")).status_code == 201
    value = "v" * (dav_service.MAX_PROPERTY_BYTES + 1)
    answer = await call(client, alice, "PROPPATCH", "a.txt", content=propertyupdate(f"<z:big>{value}</z:big>"))
    assert prop(responses(answer)[url(alice, "a.txt")], f"{{{LITMUS_NS}}}big", 507) is not None


@LOCAL_ONLY
async def test_account_password_over_basic(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """The account password works over Basic for an account without a second factor (H2's rule)."""
    answer = await client.request("PROPFIND", url(alice), headers={**basic(alice.user.username, PASSWORD), "Depth": "0"})
    assert answer.status_code == 207, answer.text


@LOCAL_ONLY
async def test_quota_properties_and_a_missing_depth(client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn) -> None:
    """RFC 4331's properties on a folder; a PROPFIND without Depth answers the folder and its children (depth 1)."""
    await quota.set_user_quota(session=session, tenant_id=alice.user.tenant_id, user_id=alice.user.id, quota_bytes=1000)
    await session.flush()
    assert (await call(client, alice, "PUT", "q.txt", content=b"x" * 100)).status_code == 201
    body = b'<d:propfind xmlns:d="DAV:"><d:prop><d:quota-used-bytes/><d:quota-available-bytes/></d:prop></d:propfind>'
    found = responses(await call(client, alice, "PROPFIND", content=body))
    root = found[url(alice)]
    assert prop(root, "quota-used-bytes").text == "100"  # type: ignore[union-attr]
    assert prop(root, "quota-available-bytes").text == "900"  # type: ignore[union-attr]
    assert prop(found[url(alice, "q.txt")], "quota-used-bytes", 404) is not None


@LOCAL_ONLY
async def test_destination_on_the_public_host_is_this_server(
    client: httpx.AsyncClient, alice: SignedIn, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy the client names the public host in Destination, not the Host the app sees."""
    monkeypatch.setattr(settings, "public_url", "https://files.example.org")
    assert (await call(client, alice, "PUT", "a.txt", content=b"x")).status_code == 201
    target = f"https://files.example.org{url(alice, 'b.txt')}"
    assert (await call(client, alice, "MOVE", "a.txt", headers={"Destination": target})).status_code == 201
    assert (await call(client, alice, "GET", "b.txt")).content == b"x"


@LOCAL_ONLY
async def test_a_wrong_password_on_a_read_is_a_recorded_401(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a read (PROPFIND, GET) WHEN the Basic password is wrong THEN 401 with the challenge, not a write refused by
    the read-only session: credentials are checked in a session of their own, which may record the failure."""
    for method in ("PROPFIND", "GET", "OPTIONS"):
        answer = await client.request(method, url(alice), headers=basic(alice.user.username, "not-the-password"))
        assert answer.status_code == 401, (method, answer.text)
        assert answer.headers["www-authenticate"].startswith('Basic realm="Nubes"')


@LOCAL_ONLY
async def test_get_of_a_folder_is_a_zip_and_head_of_it_is_empty(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await call(client, alice, "MKCOL", "z")).status_code == 201
    assert (await call(client, alice, "PUT", "z/a.txt", content=b"a")).status_code == 201
    zipped = await call(client, alice, "GET", "z/")
    assert zipped.status_code == 200
    assert zipped.headers["content-type"] == "application/zip"
    assert zipped.content.startswith(b"PK")
    head = await call(client, alice, "HEAD", "z/")
    assert head.status_code == 200
    assert head.content == b""
