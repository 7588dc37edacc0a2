"""WebDAV locking through the app on both databases: LOCK, refresh, UNLOCK, shared and exclusive locks, the `If`
header (tagged and untagged lists, Not, entity tags), expiry, and attempts to get past a lock."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree as SafeET
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.principal import Principal
from nubes.files.locks import service as locks
from nubes.files.locks.models import FileLock
from nubes.files.tree.models import FileNode
from tests.factories import SignedIn, login, make_tenant, make_user

pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)

NS = {"d": "DAV:"}

LOCKINFO = (
    '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:{scope}/></D:lockscope>'
    "<D:locktype><D:write/></D:locktype><D:owner>{owner}</D:owner></D:lockinfo>"
)


def dav(who: SignedIn, path: str = "") -> str:
    return f"/dav/files/{who.user.username}/{path}"


async def request(client: httpx.AsyncClient, who: SignedIn, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    headers = {**who.headers, **kwargs.pop("headers", {})}
    return await client.request(method, dav(who, path), headers=headers, **kwargs)


async def lock(
    client: httpx.AsyncClient,
    who: SignedIn,
    path: str,
    *,
    scope: str = "exclusive",
    depth: str = "0",
    owner: str = "litmus-like client",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await request(
        client, who, "LOCK", path, content=LOCKINFO.format(scope=scope, owner=owner).encode(),
        headers={"Depth": depth, "Timeout": "Second-600", "Content-Type": "application/xml", **(headers or {})},
    )  # fmt: skip


def token_of(response: httpx.Response) -> str:
    assert response.status_code in {200, 201}, response.text
    header = response.headers["lock-token"]
    assert header.startswith("<")
    assert header.endswith(">")
    return header[1:-1]


async def put(client: httpx.AsyncClient, who: SignedIn, path: str, data: bytes = b"data", **headers: str) -> httpx.Response:
    return await request(client, who, "PUT", path, content=data, headers=headers)


def absolute(who: SignedIn, path: str) -> str:
    return f"http://testserver{dav(who, path)}"


async def test_lock_answers_lockdiscovery_and_the_token(client: httpx.AsyncClient, alice: SignedIn) -> None:
    assert (await put(client, alice, "doc.txt")).status_code == 201
    body = LOCKINFO.format(scope="exclusive", owner="<D:href>mailto:a@example.org</D:href>").encode()
    answer = await request(
        client, alice, "LOCK", "doc.txt", content=body, headers={"Depth": "0", "Timeout": "Infinite, Second-4100000000"}
    )
    token = token_of(answer)
    assert answer.status_code == 200
    assert token.startswith("urn:nubes:")
    assert len(token) == 32
    tree = SafeET.fromstring(answer.content)
    active = tree.find("d:lockdiscovery/d:activelock", NS)
    assert active is not None
    assert active.find("d:lockscope/d:exclusive", NS) is not None
    assert active.find("d:locktype/d:write", NS) is not None
    assert active.findtext("d:depth", namespaces=NS) == "0"
    assert active.findtext("d:locktoken/d:href", namespaces=NS) == token
    assert active.findtext("d:lockroot/d:href", namespaces=NS) == dav(alice, "doc.txt")
    assert active.findtext("d:owner/d:href", namespaces=NS) == "mailto:a@example.org"
    timeout = active.findtext("d:timeout", namespaces=NS) or ""
    seconds = int(timeout.removeprefix("Second-"))
    assert 86_000 < seconds <= 86_400  # Infinite is capped at a day
    # PROPFIND shows the same lock.
    found = await request(
        client, alice, "PROPFIND", "doc.txt", headers={"Depth": "0"},
        content=b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
    )  # fmt: skip
    assert found.status_code == 207, found.text
    assert SafeET.fromstring(found.content).findtext(".//d:activelock/d:locktoken/d:href", namespaces=NS) == token


async def test_writes_need_the_token_and_unlock_frees_them(client: httpx.AsyncClient, alice: SignedIn) -> None:
    await put(client, alice, "doc.txt")
    await request(client, alice, "MKCOL", "elsewhere")
    token = token_of(await lock(client, alice, "doc.txt"))
    # Without the token: every write is refused, and says which lock.
    refused = await put(client, alice, "doc.txt", b"other")
    assert refused.status_code == 423, refused.text
    for method, headers in (
        ("DELETE", {}),
        ("MOVE", {"Destination": absolute(alice, "moved.txt")}),
        ("PROPPATCH", {}),
    ):
        body = (
            b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:a xmlns:x="urn:x">1</x:a></D:prop>'
            b"</D:set></D:propertyupdate>"
            if method == "PROPPATCH"
            else b""
        )
        answer = await request(client, alice, method, "doc.txt", content=body, headers=headers)
        assert answer.status_code == 423, f"{method}: {answer.status_code} {answer.text}"
    await put(client, alice, "other.txt")
    onto = await request(client, alice, "COPY", "other.txt", headers={"Destination": absolute(alice, "doc.txt")})
    assert onto.status_code == 423, onto.text
    # Lock attempts on it conflict, the UNLOCK of a forged token does not match.
    conflict = await lock(client, alice, "doc.txt")
    assert conflict.status_code == 423
    assert SafeET.fromstring(conflict.content).find("d:no-conflicting-lock", NS) is not None
    forged = await request(client, alice, "UNLOCK", "doc.txt", headers={"Lock-Token": "<opaquelocktoken:foobar>"})
    assert forged.status_code == 409
    # With the token (untagged, or tagged with the absolute URI), the lock's owner writes.
    assert (await put(client, alice, "doc.txt", b"v2", If=f"(<{token}>)")).status_code == 204
    assert (await put(client, alice, "doc.txt", b"v3", If=f"<{absolute(alice, 'doc.txt')}> (<{token}>)")).status_code == 204
    # A COPY of it carries no lock.
    copied = await request(client, alice, "COPY", "doc.txt", headers={"Destination": absolute(alice, "elsewhere/copy.txt")})
    assert copied.status_code == 201, copied.text
    assert (await put(client, alice, "elsewhere/copy.txt", b"free")).status_code == 204
    unlocked = await request(client, alice, "UNLOCK", "doc.txt", headers={"Lock-Token": f"<{token}>"})
    assert unlocked.status_code == 204, unlocked.text
    assert (await put(client, alice, "doc.txt", b"v4")).status_code == 204
    assert (await put(client, alice, "doc.txt", b"v5", If="(<DAV:no-lock>)")).status_code == 412


async def test_if_header_lists_etags_and_not(client: httpx.AsyncClient, alice: SignedIn) -> None:
    created = await put(client, alice, "doc.txt", b"first")
    etag = created.headers["etag"]
    token = token_of(await lock(client, alice, "doc.txt"))
    assert (await put(client, alice, "doc.txt", b"a", If=f"(<{token}> [{etag}])")).status_code == 204
    etag = (await request(client, alice, "HEAD", "doc.txt")).headers["etag"]
    assert (await put(client, alice, "doc.txt", b"b", If=f'(<{token}> ["not-the-etag"])')).status_code == 412
    assert (await put(client, alice, "doc.txt", b"b", If=f"(<DAV:no-lock> [{etag}])")).status_code == 412
    assert (await put(client, alice, "doc.txt", b"b", If=f"(<{token}>) (Not <DAV:no-lock>)")).status_code == 204
    # A corrupted token in a list that is false, next to one that holds: the header holds, the lock is not named.
    assert (await put(client, alice, "doc.txt", b"c", If=f"(<{token}x>) (Not <DAV:no-lock>)")).status_code == 423
    etag = (await request(client, alice, "HEAD", "doc.txt")).headers["etag"]
    complex_if = f"(<{token}> [{etag}]) (Not <DAV:no-lock> [{etag}])"
    assert (await put(client, alice, "doc.txt", b"d", If=complex_if)).status_code == 204
    etag = (await request(client, alice, "HEAD", "doc.txt")).headers["etag"]
    stale = etag[:-3] + ("0" if etag[-3] != "0" else "1") + etag[-2:]
    assert (
        await put(client, alice, "doc.txt", b"e", If=f"(<{token}> [{stale}]) (Not <DAV:no-lock> [{stale}])")
    ).status_code == 412
    for bad in ("(", "()", "<x>", "garbage", "(<a> [b)"):
        answer = await put(client, alice, "doc.txt", b"f", If=bad)
        assert answer.status_code == 400, f"{bad!r}: {answer.status_code}"


async def test_refresh_extends_the_lock_named_in_if(client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession) -> None:
    await request(client, alice, "MKCOL", "coll")
    token = token_of(await lock(client, alice, "coll/", depth="infinity"))
    await put(client, alice, "coll/inner.txt", b"x", If=f"<{absolute(alice, 'coll/')}> (<{token}>)")
    before = await session.scalar(select(FileLock.expires_at))
    assert before is not None
    await session.execute(update(FileLock).values(expires_at=before - timedelta(seconds=300)))
    # Refresh on the member, through the folder's lock (indirect refresh).
    refreshed = await request(client, alice, "LOCK", "coll/inner.txt", headers={"If": f"(<{token}>)", "Timeout": "Second-3000"})
    assert refreshed.status_code == 200, refreshed.text
    assert "lock-token" not in refreshed.headers
    assert SafeET.fromstring(refreshed.content).findtext(".//d:lockroot/d:href", namespaces=NS) == dav(alice, "coll/")
    after = await session.scalar(select(FileLock.expires_at).execution_options(populate_existing=True))
    assert after is not None
    assert after > before
    assert (await request(client, alice, "LOCK", "coll/inner.txt")).status_code == 400  # no body, no If
    forged = f"(<{FileLock.token_of(uuid.uuid4())}>)"
    assert (await request(client, alice, "LOCK", "coll/inner.txt", headers={"If": forged})).status_code == 412


async def test_a_folder_locked_depth_infinity(client: httpx.AsyncClient, alice: SignedIn) -> None:
    await request(client, alice, "MKCOL", "coll")
    await put(client, alice, "coll/old.txt")
    token = token_of(await lock(client, alice, "coll/", depth="infinity"))
    folder_if = f"<{absolute(alice, 'coll/')}> (<{token}>)"
    assert (await put(client, alice, "coll/new.txt")).status_code == 423
    assert (await request(client, alice, "MKCOL", "coll/sub")).status_code == 423
    assert (await put(client, alice, "coll/old.txt", b"changed")).status_code == 423
    assert (await request(client, alice, "DELETE", "coll/")).status_code == 423
    assert (await request(client, alice, "DELETE", "coll/old.txt")).status_code == 423
    assert (await put(client, alice, "coll/new.txt", If=folder_if)).status_code == 201
    assert (await put(client, alice, "coll/old.txt", b"changed", If=f"(<{token}>)")).status_code == 204
    assert (await request(client, alice, "MKCOL", "coll/sub", headers={"If": folder_if})).status_code == 201
    # A member cannot be locked exclusively under the folder's exclusive lock.
    assert (await lock(client, alice, "coll/old.txt", headers={"If": folder_if})).status_code == 423
    deleted = await request(client, alice, "DELETE", "coll/", headers={"If": f"(<{token}>)"})
    assert deleted.status_code == 204, deleted.text


async def test_shared_locks_coexist_and_exclude_an_exclusive_one(client: httpx.AsyncClient, alice: SignedIn) -> None:
    await put(client, alice, "doc.txt")
    first = token_of(await lock(client, alice, "doc.txt", scope="shared"))
    second = token_of(await lock(client, alice, "doc.txt", scope="shared"))
    assert first != second
    assert (await lock(client, alice, "doc.txt")).status_code == 423
    assert (await put(client, alice, "doc.txt", b"x", If=f"(<{second}>)")).status_code == 204
    assert (await request(client, alice, "UNLOCK", "doc.txt", headers={"Lock-Token": f"<{second}>"})).status_code == 204
    assert (await put(client, alice, "doc.txt", b"y", If=f"(<{second}>)")).status_code == 412  # gone
    assert (await put(client, alice, "doc.txt", b"y", If=f"(<{first}>)")).status_code == 204


async def test_lock_on_an_unmapped_url_makes_an_empty_file(client: httpx.AsyncClient, alice: SignedIn) -> None:
    answer = await lock(client, alice, "unmapped.txt")
    token = token_of(answer)
    assert answer.status_code == 201
    got = await request(client, alice, "GET", "unmapped.txt")
    assert (got.status_code, got.content) == (200, b"")
    assert (await put(client, alice, "unmapped.txt", b"now")).status_code == 423
    assert (await put(client, alice, "unmapped.txt", b"now", If=f"(<{token}>)")).status_code == 204
    assert (await lock(client, alice, "missing/unmapped.txt")).status_code == 409


async def test_expired_locks_are_no_locks(client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession) -> None:
    await put(client, alice, "doc.txt")
    token = token_of(await lock(client, alice, "doc.txt"))
    await session.execute(update(FileLock).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await put(client, alice, "doc.txt", b"free")).status_code == 204
    assert (await put(client, alice, "doc.txt", b"free", If=f"(<{token}>)")).status_code == 412
    assert (await request(client, alice, "UNLOCK", "doc.txt", headers={"Lock-Token": f"<{token}>"})).status_code == 409
    token_of(await lock(client, alice, "doc.txt"))  # a new lock sweeps the tenant's expired ones
    assert await session.scalar(select(FileLock.id).where(FileLock.id == locks.lock_id(token))) is None


async def test_bad_lock_requests(client: httpx.AsyncClient, alice: SignedIn) -> None:
    await put(client, alice, "doc.txt")
    assert (await lock(client, alice, "doc.txt", depth="1")).status_code == 400
    assert (await lock(client, alice, "doc.txt", owner="x" * 5000)).status_code == 400
    not_write = LOCKINFO.replace("<D:write/>", "<D:read/>").format(scope="exclusive", owner="x").encode()
    assert (await request(client, alice, "LOCK", "doc.txt", content=not_write)).status_code == 400
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><D:lockinfo xmlns:D="DAV:">&a;</D:lockinfo>'
    assert (await request(client, alice, "LOCK", "doc.txt", content=bomb)).status_code == 400
    assert (await request(client, alice, "UNLOCK", "doc.txt")).status_code == 400  # no Lock-Token


# --- getting past a lock -------------------------------------------------------------------------------


@pytest.fixture
async def rivals(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, alice: SignedIn) -> dict[str, Any]:
    """Bob in Alice's tenant, who may edit her folder "shared" (holding doc.txt); Mallory in another tenant."""
    await request(client, alice, "MKCOL", "shared")
    await put(client, alice, "shared/doc.txt")
    tenant_id = alice.user.tenant_id
    tenant = await make_tenant(session)
    mallory = await login(client, await make_user(session, settings, tenant, username=f"mallory-{tenant.slug}"))
    from nubes.identity.tenants.models import Tenant  # noqa: PLC0415 - only this fixture needs it

    home = await session.get_one(Tenant, tenant_id)
    bob = await login(client, await make_user(session, settings, home, username=f"bob-{uuid.uuid4().hex[:6]}"))
    folder_id = await session.scalar(select(FileNode.id).where(FileNode.owner_id == alice.user.id, FileNode.name == "shared"))
    shared = await client.post(
        f"/api/files/{folder_id}/shares", json={"user_id": str(bob.user.id), "permission": "edit"}, headers=alice.headers
    )
    assert shared.status_code == 201, shared.text
    return {"bob": bob, "mallory": mallory}


def principal_of(who: SignedIn) -> Principal:
    return Principal(user_id=who.user.id, tenant_id=who.user.tenant_id, username=who.user.username, permissions=frozenset())


async def test_a_token_of_another_users_lock_opens_nothing(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn, rivals: dict[str, Any]
) -> None:
    """GIVEN Bob's lock on Alice's file (he edits her shared folder) WHEN Alice sends Bob's token THEN 423: a token
    is only held by the user who took the lock."""
    bob = rivals["bob"]
    node = await session.scalar(select(FileNode).where(FileNode.owner_id == alice.user.id, FileNode.name == "doc.txt"))
    assert node is not None
    bobs = await locks.create(
        session=session, principal=principal_of(bob), node=node, root=dav(alice, "shared/doc.txt"), exclusive=True,
        depth_infinity=False, owner_xml=None, life=timedelta(minutes=5),
    )  # fmt: skip
    refused = await put(client, alice, "shared/doc.txt", b"mine", If=f"(<{bobs.token}>)")
    assert refused.status_code == 423, refused.text
    tagged = await put(client, alice, "shared/doc.txt", b"mine", If=f"<{absolute(alice, 'shared/doc.txt')}> (<{bobs.token}>)")
    assert tagged.status_code == 423
    # Nor can she UNLOCK it over WebDAV (only through the REST API as an administrator).
    unlock = await request(client, alice, "UNLOCK", "shared/doc.txt", headers={"Lock-Token": f"<{bobs.token}>"})
    assert unlock.status_code == 403, unlock.text
    # And the REST API refuses her too, naming Bob.
    answer = await client.put(f"/api/files/{node.id}/content", content=b"mine", headers=alice.headers)
    assert answer.status_code == 423
    assert answer.json()["locked_by"] == bob.user.username


async def test_a_token_for_another_resource_or_forged_opens_nothing(client: httpx.AsyncClient, alice: SignedIn) -> None:
    await put(client, alice, "a.txt")
    await put(client, alice, "b.txt")
    token_a = token_of(await lock(client, alice, "a.txt"))
    token_of(await lock(client, alice, "b.txt"))
    assert (await put(client, alice, "b.txt", If=f"(<{token_a}>)")).status_code == 412  # a's token is no lock of b
    assert (await put(client, alice, "b.txt", If=f"<{absolute(alice, 'a.txt')}> (<{token_a}>)")).status_code == 423
    forged = FileLock.token_of(uuid.uuid4())  # well-formed, names no lock
    assert (await put(client, alice, "b.txt", If=f"(<{forged}>)")).status_code == 412
    assert (await put(client, alice, "b.txt", If=f"(<{forged}>) (Not <DAV:no-lock>)")).status_code == 423
    unlock = await request(client, alice, "UNLOCK", "b.txt", headers={"Lock-Token": f"<{token_a}>"})
    assert unlock.status_code == 409
    assert re.search(r"lock-token-matches-request-uri", unlock.text)


async def test_a_lock_of_another_tenant_opens_nothing(
    client: httpx.AsyncClient, session: AsyncSession, alice: SignedIn, rivals: dict[str, Any]
) -> None:
    mallory = rivals["mallory"]
    await put(client, mallory, "hers.txt")
    hers = token_of(await lock(client, mallory, "hers.txt"))
    token_of(await lock(client, alice, "shared/doc.txt"))
    assert (await put(client, alice, "shared/doc.txt", If=f"(<{hers}>)")).status_code == 412
    tagged = f"<{absolute(mallory, 'hers.txt')}> (<{hers}>)"
    assert (await put(client, alice, "shared/doc.txt", If=tagged)).status_code == 423
    assert (await request(client, alice, "UNLOCK", "shared/doc.txt", headers={"Lock-Token": f"<{hers}>"})).status_code == 409
    # Mallory's lock is still there, and her own tree is hers alone.
    assert await session.scalar(select(FileLock.id).where(FileLock.id == locks.lock_id(hers))) is not None
    assert (await request(client, mallory, "PUT", "hers.txt", content=b"x")).status_code == 423
