"""The Nextcloud compatibility layer through the app, on both databases: status, OCS, Login Flow v2, chunked uploads
(v1 "NG" names and v2 numbers), and the oc:/nc: properties of PROPFIND."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import defusedxml.ElementTree as SafeET
import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.storage import LocalStorage, Storage
from nubes.files.nextcloud.models import ChunkedTransfer, LoginFlow
from nubes.files.quota import service as quota
from nubes.files.tree.models import FileNode
from nubes.files.uploads.models import FileUpload
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.files.dav.test_dav import basic, token_for

LOCAL_ONLY = pytest.mark.parametrize("storage", ["local"], indirect=True)
NS = {"d": "DAV:", "oc": "http://owncloud.org/ns", "nc": "http://nextcloud.org/ns"}


async def app_password(session: AsyncSession, who: SignedIn) -> dict[str, str]:
    """Basic credentials of `who` with a files token (what a granted client holds)."""
    return basic(who.user.username, await token_for(session, who, ["files.read", "files.write"]))


def uploads(who: SignedIn, *rest: str) -> str:
    return "/".join([f"/remote.php/dav/uploads/{who.user.username}", *rest])


def files_url(who: SignedIn, path: str) -> str:
    return f"http://testserver/remote.php/dav/files/{who.user.username}/{path}"


# --- status and OCS ---------------------------------------------------------------------------------------------


@LOCAL_ONLY
async def test_status_php_says_an_installed_nextcloud_compatible_server(client: httpx.AsyncClient) -> None:
    answer = await client.get("/status.php")
    assert answer.status_code == 200
    body = answer.json()
    assert body["installed"] is True
    assert body["maintenance"] is False
    assert body["productname"] == "Nubes"
    assert int(body["version"].split(".")[0]) >= 26
    assert body["versionstring"].startswith(body["version"][:2])


@LOCAL_ONLY
async def test_capabilities_in_json_and_xml_v1_and_v2(client: httpx.AsyncClient) -> None:
    v2 = await client.get("/ocs/v2.php/cloud/capabilities?format=json", headers={"OCS-APIRequest": "true"})
    assert v2.status_code == 200
    ocs = v2.json()["ocs"]
    assert ocs["meta"]["statuscode"] == 200
    caps = ocs["data"]["capabilities"]
    assert caps["dav"]["chunking"] == "1.0"
    assert "bulkupload" not in caps["dav"]
    assert caps["checksums"]["supportedTypes"] == ["SHA256"]
    assert caps["files"]["bigfilechunking"] is True
    v1 = await client.get("/ocs/v1.php/cloud/capabilities?format=json")
    assert v1.json()["ocs"]["meta"]["statuscode"] == 100
    as_xml = await client.get("/ocs/v1.php/cloud/capabilities")
    assert as_xml.headers["content-type"].startswith("application/xml")
    root = SafeET.fromstring(as_xml.content)
    assert root.tag == "ocs"
    assert root.findtext("data/capabilities/dav/chunking") == "1.0"


@LOCAL_ONLY
async def test_cloud_user_tells_the_caller_and_only_the_caller(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, alice: SignedIn
) -> None:
    anonymous = await client.get("/ocs/v2.php/cloud/user?format=json")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    auth = await app_password(session, alice)
    await quota.set_user_quota(session=session, tenant_id=alice.user.tenant_id, user_id=alice.user.id, quota_bytes=1000)
    me = await client.get("/ocs/v2.php/cloud/user?format=json", headers={**auth, "OCS-APIRequest": "true"})
    assert me.status_code == 200, me.text
    data = me.json()["ocs"]["data"]
    assert data["id"] == alice.user.username
    assert data["email"] == (alice.user.email or "")
    assert data["quota"]["total"] == 1000
    assert data["quota"]["used"] == 0
    by_id = await client.get(f"/ocs/v1.php/cloud/users/{alice.user.username}?format=json", headers=auth)
    assert by_id.json()["ocs"]["data"]["id"] == alice.user.username
    tenant = await make_tenant(session)
    bob = await make_user(session, settings, tenant)
    other = await client.get(f"/ocs/v2.php/cloud/users/{bob.username}?format=json", headers=auth)
    assert other.status_code == 404
    assert bob.username not in other.text.replace(f"users/{bob.username}", "")
    notes = await client.get("/ocs/v2.php/apps/notifications/api/v2/notifications?format=json", headers=auth)
    assert notes.status_code == 200
    assert notes.json()["ocs"]["data"] == []


# --- Login Flow v2 ----------------------------------------------------------------------------------------------


async def start_flow(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """A new flow as the desktop client starts it: (poll token, poll endpoint, login token)."""
    answer = await client.post("/index.php/login/v2", headers={"User-Agent": "Mozilla/5.0 (Linux) mirall/3.7.3git (Nextcloud)"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    login_url: str = body["login"]
    assert "/login/flow/" in login_url
    return body["poll"]["token"], body["poll"]["endpoint"], login_url.rsplit("/", 1)[1]


@LOCAL_ONLY
async def test_login_flow_grant_gives_a_working_app_password_once(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    poll_token, endpoint, login_token = await start_flow(client)
    assert endpoint.endswith("/index.php/login/v2/poll")
    assert poll_token != login_token
    stored = (await session.scalars(select(LoginFlow))).all()
    assert all(poll_token not in (row.poll_token_hash, row.login_token_hash) for row in stored)  # only hashes at rest
    pending = await client.post("/index.php/login/v2/poll", data={"token": poll_token})
    assert pending.status_code == 404
    seen = await client.get(f"/api/files/nextcloud/login-flows/{login_token}", headers=alice.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["client_name"] == "Nextcloud desktop client"
    granted = await client.post(f"/api/files/nextcloud/login-flows/{login_token}/grant", headers=alice.headers)
    assert granted.status_code == 200, granted.text
    assert granted.json()["granted"] is True
    polled = await client.post("/index.php/login/v2/poll", data={"token": poll_token})
    assert polled.status_code == 200, polled.text
    credentials = polled.json()
    assert credentials["loginName"] == alice.user.username
    assert credentials["server"].startswith("http")
    auth = basic(credentials["loginName"], credentials["appPassword"])
    listing = await client.request("PROPFIND", f"/remote.php/dav/files/{alice.user.username}/", headers={**auth, "Depth": "0"})
    assert listing.status_code == 207, listing.text
    # Single use: the poll token and the login URL are spent.
    assert (await client.post("/index.php/login/v2/poll", data={"token": poll_token})).status_code == 404
    again = await client.post(f"/api/files/nextcloud/login-flows/{login_token}/grant", headers=alice.headers)
    assert again.status_code == 404
    # The new app password is one of alice's devices, named after the client.
    devices = await client.get("/api/users/me/app-passwords", headers=alice.headers)
    assert [device["name"] for device in devices.json()] == ["Nextcloud desktop client"]


@LOCAL_ONLY
async def test_login_flow_deny_expiry_and_bad_tokens(client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn) -> None:
    poll_token, _, login_token = await start_flow(client)
    denied = await client.post(f"/api/files/nextcloud/login-flows/{login_token}/deny", headers=alice.headers)
    assert denied.status_code == 200
    assert denied.json()["granted"] is False
    assert (await client.post("/index.php/login/v2/poll", data={"token": poll_token})).status_code == 404
    late_grant = await client.post(f"/api/files/nextcloud/login-flows/{login_token}/grant", headers=alice.headers)
    assert late_grant.status_code == 404
    # Expired: neither the page nor a grant nor the poll works.
    poll_token, _, login_token = await start_flow(client)
    await session.execute(update(LoginFlow).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.get(f"/api/files/nextcloud/login-flows/{login_token}", headers=alice.headers)).status_code == 404
    grant = await client.post(f"/api/files/nextcloud/login-flows/{login_token}/grant", headers=alice.headers)
    assert grant.status_code == 404
    assert (await client.post("/index.php/login/v2/poll", data={"token": poll_token})).status_code == 404
    # Tokens swapped or made up, a body without one.
    poll_token, _, login_token = await start_flow(client)
    assert (await client.get(f"/api/files/nextcloud/login-flows/{poll_token}", headers=alice.headers)).status_code == 404
    assert (await client.post("/index.php/login/v2/poll", data={"token": login_token})).status_code == 404
    assert (await client.post("/index.php/login/v2/poll", content=b"")).status_code == 400
    # The page needs a signed-in user.
    assert (await client.get(f"/api/files/nextcloud/login-flows/{login_token}")).status_code == 401


@LOCAL_ONLY
async def test_login_flow_granted_by_another_user_gives_that_users_password_and_a_token_cannot_grant(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, alice: SignedIn
) -> None:
    """GIVEN alice's client's login URL WHEN bob opens and grants it THEN the client signs in as bob (the page says
    who it is for), alice gets nothing; an app password or token cannot grant more credentials."""
    tenant = await make_tenant(session)
    bob = await login(client, await make_user(session, settings, tenant))
    poll_token, _, login_token = await start_flow(client)
    token = await token_for(session, alice, ["files.read", "files.write"])
    with_token = await client.post(
        f"/api/files/nextcloud/login-flows/{login_token}/grant", headers={"Authorization": f"Bearer {token}"}
    )
    assert with_token.status_code in {401, 403}, with_token.text
    assert (await client.post(f"/api/files/nextcloud/login-flows/{login_token}/grant", headers=bob.headers)).status_code == 200
    alice_grant = await client.post(f"/api/files/nextcloud/login-flows/{login_token}/grant", headers=alice.headers)
    assert alice_grant.status_code == 404
    credentials = (await client.post("/index.php/login/v2/poll", data={"token": poll_token})).json()
    assert credentials["loginName"] == bob.user.username
    auth = basic(credentials["loginName"], credentials["appPassword"])
    refused = await client.request("PROPFIND", f"/remote.php/dav/files/{alice.user.username}/", headers={**auth, "Depth": "0"})
    assert refused.status_code == 403


# --- chunked upload ---------------------------------------------------------------------------------------------


def chunk_names(answer: httpx.Response) -> dict[str, int]:
    assert answer.status_code == 207, answer.text
    root = SafeET.fromstring(answer.content)
    found: dict[str, int] = {}
    for response in root.findall("d:response", NS):
        href = str(response.findtext("d:href", namespaces=NS))
        length = response.findtext("d:propstat/d:prop/d:getcontentlength", namespaces=NS)
        if length is not None:
            found[href.rsplit("/", 1)[1]] = int(length)
    return found


async def file_bytes(client: httpx.AsyncClient, who: SignedIn, auth: dict[str, str], path: str) -> bytes:
    answer = await client.get(f"/remote.php/dav/files/{who.user.username}/{path}", headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.content


async def test_v2_chunks_in_order_assemble_without_a_copy_and_resume(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, storage: Storage, alice: SignedIn
) -> None:
    """GIVEN a v2 transfer WHEN chunks 1..3 arrive (the client stops after 2, looks, and resumes) and `.file` is moved
    THEN the file holds the bytes in order, with the etag and file id headers, and the transfer is gone."""
    auth = await app_password(session, alice)
    parts = [b"a" * 700_000, b"b" * 700_000, b"c" * 1234]
    total = sum(len(part) for part in parts)
    dest = {"Destination": files_url(alice, "big.bin"), "OC-Total-Length": str(total)}
    made = await client.request("MKCOL", uploads(alice, "web-file-upload-1"), headers={**auth, **dest})
    assert made.status_code == 201, made.text
    for number, part in enumerate(parts[:2], start=1):
        put = await client.put(uploads(alice, "web-file-upload-1", f"{number:05d}"), content=part, headers={**auth, **dest})
        assert put.status_code == 201, put.text
    # Resume: what arrived?
    listing = await client.request("PROPFIND", uploads(alice, "web-file-upload-1"), headers={**auth, "Depth": "1"})
    assert chunk_names(listing) == {"00001": 700_000, "00002": 700_000}
    put = await client.put(uploads(alice, "web-file-upload-1", "00003"), content=parts[2], headers={**auth, **dest})
    assert put.status_code == 201
    moved = await client.request("MOVE", uploads(alice, "web-file-upload-1", ".file"), headers={**auth, **dest})
    assert moved.status_code == 201, moved.text
    assert moved.headers["etag"] == f'"{hashlib.sha256(b"".join(parts)).hexdigest()}"'
    assert moved.headers["oc-fileid"]
    assert await file_bytes(client, alice, auth, "big.bin") == b"".join(parts)
    assert await session.scalar(select(func.count()).select_from(ChunkedTransfer)) == 0
    assert await session.scalar(select(func.count()).select_from(FileUpload)) == 0
    used, *_ = await quota.usage(session=session, settings=settings, principal=_principal(alice))
    assert used == total
    if isinstance(storage, LocalStorage):
        assert not any((storage.root / "staging").glob("*"))
    # A new version of the same file through another transfer.
    await client.request("MKCOL", uploads(alice, "t2"), headers={**auth, "Destination": files_url(alice, "big.bin")})
    await client.put(uploads(alice, "t2", "1"), content=b"new", headers=auth)
    replaced = await client.request(
        "MOVE", uploads(alice, "t2", ".file"), headers={**auth, "Destination": files_url(alice, "big.bin")}
    )
    assert replaced.status_code == 204, replaced.text
    assert await file_bytes(client, alice, auth, "big.bin") == b"new"


def _principal(who: SignedIn) -> Any:
    from nubes.core.principal import Principal  # noqa: PLC0415 - only this helper needs it

    return Principal(user_id=who.user.id, tenant_id=who.user.tenant_id, username=who.user.username, permissions=frozenset())


async def test_chunks_out_of_order_and_v1_offset_names_are_assembled_in_number_order(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    auth = await app_password(session, alice)
    await client.request("MKCOL", uploads(alice, "shuffled"), headers={**auth, "Destination": files_url(alice, "s.bin")})
    for number, part in ((2, b"22"), (3, b"333"), (1, b"1")):
        assert (await client.put(uploads(alice, "shuffled", str(number)), content=part, headers=auth)).status_code == 201
    moved = await client.request(
        "MOVE", uploads(alice, "shuffled", ".file"), headers={**auth, "Destination": files_url(alice, "s.bin")}
    )
    assert moved.status_code == 201, moved.text
    assert await file_bytes(client, alice, auth, "s.bin") == b"122333"
    # v1 ("NG", the 3.x desktop client): no Destination at MKCOL, chunks named by their zero-padded byte offset.
    assert (await client.request("MKCOL", uploads(alice, "1234567"), headers=auth)).status_code == 201
    for offset, part in ((0, b"hello "), (6, b"world")):
        answer = await client.put(uploads(alice, "1234567", f"{offset:016d}"), content=part, headers=auth)
        assert answer.status_code == 201
    moved = await client.request(
        "MOVE",
        uploads(alice, "1234567", ".file"),
        headers={**auth, "Destination": files_url(alice, "dir%20x/v1.txt"), "OC-Total-Length": "11"},
    )
    assert moved.status_code == 409  # the folder does not exist
    await client.request("MKCOL", f"/remote.php/dav/files/{alice.user.username}/dir%20x", headers=auth)
    moved = await client.request(
        "MOVE",
        uploads(alice, "1234567", ".file"),
        headers={**auth, "Destination": files_url(alice, "dir%20x/v1.txt"), "OC-Total-Length": "11"},
    )
    assert moved.status_code == 201, moved.text
    assert await file_bytes(client, alice, auth, "dir%20x/v1.txt") == b"hello world"


@LOCAL_ONLY
async def test_abort_quota_bad_chunks_and_other_users(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, alice: SignedIn
) -> None:
    auth = await app_password(session, alice)
    dest = {"Destination": files_url(alice, "q.bin")}
    # Abort: the transfer, its bytes and its reservation go.
    await client.request("MKCOL", uploads(alice, "gone"), headers={**auth, **dest, "OC-Total-Length": "100"})
    await client.put(uploads(alice, "gone", "1"), content=b"x" * 10, headers=auth)
    assert (await client.request("DELETE", uploads(alice, "gone"), headers=auth)).status_code == 204
    assert (await client.put(uploads(alice, "gone", "2"), content=b"x", headers=auth)).status_code == 404
    used, *_ = await quota.usage(session=session, settings=settings, principal=_principal(alice))
    assert used == 0
    # Quota: refused at MKCOL when the total is announced, else at the chunk past it; nothing is kept.
    await quota.set_user_quota(session=session, tenant_id=alice.user.tenant_id, user_id=alice.user.id, quota_bytes=50)
    big = await client.request("MKCOL", uploads(alice, "big"), headers={**auth, **dest, "OC-Total-Length": "51"})
    assert big.status_code == 507, big.text
    await client.request("MKCOL", uploads(alice, "grow"), headers={**auth, **dest})
    assert (await client.put(uploads(alice, "grow", "1"), content=b"x" * 40, headers=auth)).status_code == 201
    past = await client.put(uploads(alice, "grow", "2"), content=b"x" * 11, headers=auth)
    assert past.status_code == 507, past.text
    assert "quota" in past.text.lower() or "left" in past.text.lower()
    listing = await client.request("PROPFIND", uploads(alice, "grow"), headers={**auth, "Depth": "1"})
    assert chunk_names(listing) == {"1": 40}
    # Bad chunk names (v2: 1..10000, digits), a MKCOL twice, a MOVE that is not `.file`.
    for bad in ("0", "10001", "abc", "-1"):
        answer = await client.put(uploads(alice, "grow", bad), content=b"x", headers=auth)
        assert answer.status_code == 400, (bad, answer.text)
    assert (await client.request("MKCOL", uploads(alice, "grow"), headers={**auth, **dest})).status_code == 405
    not_file = await client.request("MOVE", uploads(alice, "grow", "1"), headers={**auth, **dest})
    assert not_file.status_code == 405
    # OC-Total-Length that does not add up.
    short = await client.request("MOVE", uploads(alice, "grow", ".file"), headers={**auth, **dest, "OC-Total-Length": "41"})
    assert short.status_code == 400
    # Another user's tree or uploads folder: refused.
    tenant = await make_tenant(session)
    bob = await login(client, await make_user(session, settings, tenant))
    elsewhere = await client.request(
        "MOVE", uploads(alice, "grow", ".file"), headers={**auth, "Destination": files_url(bob, "stolen.bin")}
    )
    assert elsewhere.status_code == 403, elsewhere.text
    traversal = await client.request(
        "MOVE",
        uploads(alice, "grow", ".file"),
        headers={**auth, "Destination": f"/remote.php/dav/files/{alice.user.username}/../{bob.user.username}/x"},
    )
    assert traversal.status_code == 403
    bob_auth = await app_password(session, bob)
    peek = await client.request("PROPFIND", uploads(alice, "grow"), headers={**bob_auth, "Depth": "1"})
    assert peek.status_code == 403
    own_name = await client.request("PROPFIND", f"/remote.php/dav/uploads/{bob.user.username}/grow", headers=bob_auth)
    assert own_name.status_code == 404  # bob has no transfer of that name; alice's is not his
    assert await session.scalar(select(func.count()).select_from(FileNode).where(FileNode.name == "stolen.bin")) == 0
    # Read-only credentials cannot upload.
    reader = basic(alice.user.username, await token_for(session, alice, ["files.read"]))
    assert (await client.request("MKCOL", uploads(alice, "ro"), headers={**reader, **dest})).status_code == 403
    # The sweep ends idle transfers.
    await session.execute(update(FileUpload).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.put(uploads(alice, "grow", "2"), content=b"x", headers=auth)).status_code == 404


@LOCAL_ONLY
async def test_sweep_aborts_stale_transfers_and_expired_flows(
    client: httpx.AsyncClient, session: AsyncSession, storage: Storage, alice: SignedIn
) -> None:
    from nubes.files.nextcloud import chunking, service  # noqa: PLC0415

    auth = await app_password(session, alice)
    await client.request("MKCOL", uploads(alice, "stale"), headers={**auth, "Destination": files_url(alice, "s")})
    await client.put(uploads(alice, "stale", "2"), content=b"22", headers=auth)
    await client.put(uploads(alice, "stale", "1"), content=b"1", headers=auth)  # out of order: its own object
    await start_flow(client)
    await session.execute(update(FileUpload).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.execute(update(LoginFlow).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await chunking.sweep(session=session, storage=storage) == 1
    assert await service.sweep_login_flows(session=session) == 1
    assert await session.scalar(select(func.count()).select_from(ChunkedTransfer)) == 0
    assert isinstance(storage, LocalStorage)
    assert not any((storage.root / "staging").glob("*"))


# --- properties -------------------------------------------------------------------------------------------------

PROPFIND_NC = (
    b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">'
    b"<d:prop><d:getetag/><oc:fileid/><oc:id/><oc:permissions/><oc:size/><oc:checksums/><oc:favorite/>"
    b"<oc:owner-id/><oc:owner-display-name/><oc:share-types/><nc:has-preview/><oc:unknown-thing/></d:prop></d:propfind>"
)


@LOCAL_ONLY
async def test_propfind_answers_the_oc_and_nc_properties(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    auth = await app_password(session, alice)
    base = f"/remote.php/dav/files/{alice.user.username}"
    await client.request("MKCOL", f"{base}/docs", headers=auth)
    await client.put(f"{base}/docs/a.txt", content=b"hello", headers=auth)
    node = await session.scalar(select(FileNode).where(FileNode.name == "a.txt"))
    assert node is not None
    assert (await client.put(f"/api/files/{node.id}/favorite", headers=alice.headers)).status_code == 200
    answer = await client.request("PROPFIND", f"{base}/docs/", headers={**auth, "Depth": "1"}, content=PROPFIND_NC)
    assert answer.status_code == 207, answer.text
    root = SafeET.fromstring(answer.content)
    by_href: dict[str, ET.Element] = {str(r.findtext("d:href", namespaces=NS)): r for r in root.findall("d:response", NS)}
    folder, file = by_href[f"{base}/docs/"], by_href[f"{base}/docs/a.txt"]

    def value(response: ET.Element, name: str) -> str | None:
        for propstat in response.findall("d:propstat", NS):
            found = propstat.find(f"d:prop/{name}", NS)
            if found is not None and " 200 " in str(propstat.findtext("d:status", namespaces=NS)):
                return found.text or ""
        return None

    assert value(file, "oc:fileid") == node.id.hex == value(file, "oc:id")
    assert value(file, "oc:permissions") == "GDNVW"  # no R: this app password does not carry files.share
    assert value(folder, "oc:permissions") == "GDNVCK"
    assert value(file, "oc:size") == "5"
    assert file.findtext("d:propstat/d:prop/oc:checksums/oc:checksum", namespaces=NS) == (
        "SHA256:" + hashlib.sha256(b"hello").hexdigest()
    )
    assert value(file, "oc:owner-id") == alice.user.username
    assert value(file, "oc:owner-display-name")
    assert value(file, "nc:has-preview") == "false"
    assert value(file, "oc:share-types") == ""
    assert value(folder, "oc:checksums") is None  # a folder has none: in the 404 propstat
    assert value(file, "oc:unknown-thing") is None
    # The favorite (set through the REST API) shows; the read-only credential loses the write letters.
    assert value(file, "oc:favorite") == "1"
    again = await client.request("PROPFIND", f"{base}/docs/a.txt", headers={**auth, "Depth": "0"}, content=PROPFIND_NC)
    assert '<favorite xmlns="http://owncloud.org/ns">1</favorite>' in again.text
    reader = basic(alice.user.username, await token_for(session, alice, ["files.read"]))
    ro = await client.request("PROPFIND", f"{base}/docs/a.txt", headers={**reader, "Depth": "0"}, content=PROPFIND_NC)
    assert ">G</permissions>" in ro.text
    # Live: PROPPATCH cannot store them.
    patch = await client.request(
        "PROPPATCH",
        f"{base}/docs/a.txt",
        headers=auth,
        content=b'<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        b"<d:set><d:prop><oc:fileid>1</oc:fileid></d:prop></d:set></d:propertyupdate>",
    )
    assert patch.status_code == 207
    assert "403" in patch.text


@LOCAL_ONLY
async def test_a_folder_etag_changes_when_anything_below_it_changes(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn
) -> None:
    """Sync clients descend only into folders whose ETag moved: a change deep down must move every ETag above it."""
    auth = await app_password(session, alice)
    base = f"/remote.php/dav/files/{alice.user.username}"
    ask = b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'

    async def etags() -> dict[str, str]:
        answer = await client.request("PROPFIND", f"{base}/", headers={**auth, "Depth": "1"}, content=ask)
        root = SafeET.fromstring(answer.content)
        return {
            str(r.findtext("d:href", namespaces=NS)): str(r.findtext("d:propstat/d:prop/d:getetag", namespaces=NS))
            for r in root.findall("d:response", NS)
        }

    await client.request("MKCOL", f"{base}/a", headers=auth)
    await client.request("MKCOL", f"{base}/a/b", headers=auth)
    await client.request("MKCOL", f"{base}/other", headers=auth)
    before = await etags()
    assert before[f"{base}/a/"].startswith('"')
    assert before[f"{base}/"] != "None"
    await client.put(f"{base}/a/b/deep.txt", content=b"x", headers=auth)
    after_put = await etags()
    assert after_put[f"{base}/"] != before[f"{base}/"]
    assert after_put[f"{base}/a/"] != before[f"{base}/a/"]
    assert after_put[f"{base}/other/"] == before[f"{base}/other/"]
    await client.request("DELETE", f"{base}/a/b/deep.txt", headers=auth)
    after_delete = await etags()
    assert after_delete[f"{base}/a/"] not in {after_put[f"{base}/a/"]}
