"""Public links through the API, on both databases: passwords and their rate limit, expiry, download limits, drop boxes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import AuditEvent
from nubes.files.links import service as links
from nubes.files.links.models import PublicLink
from nubes.files.quota import service as quota
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.files.test_tree import folder, upload

pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)

SECRET = "correct horse battery staple"


async def make_link(client: httpx.AsyncClient, who: SignedIn, node_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/files/{node_id}/links", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


async def file_of(
    client: httpx.AsyncClient, who: SignedIn, name: str = "photo.bin", data: bytes = b"0123456789" * 10
) -> dict[str, Any]:
    response = await upload(client, who, name, data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def denials(session: AsyncSession, link_id: str) -> list[str]:
    rows = await session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "files.link.access", AuditEvent.target_id == link_id, AuditEvent.outcome == "denied"
        )
    )
    return [row.detail["reason"] for row in rows]


async def test_password_link_unlocks_and_guessing_is_rate_limited(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    data = b"secret bytes " * 100
    file = await file_of(client, alice, "plan.txt", data)
    link = await make_link(client, alice, file["id"], password=SECRET)
    assert link["has_password"] is True
    assert link["url_path"] == f"/s/{link['token']}"
    assert len(link["token"]) >= 43  # 32 random bytes
    stored = await session.scalar(select(PublicLink).where(PublicLink.id == uuid.UUID(link["id"])))
    assert stored is not None
    assert link["token"] not in (stored.token_hash, stored.token_sealed)
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    base = f"/api/public/links/{link['token']}"

    locked = await client.get(base)
    assert locked.status_code == 401
    assert locked.json()["type"] == "urn:nubes:problem:link-password-required"
    assert (await client.get(base + "/content")).status_code == 401

    wrong = await client.post(base + "/unlock", json={"password": "guess"})
    assert wrong.status_code == 401
    assert wrong.json()["type"] == "urn:nubes:problem:link-password-wrong"
    unlocked = await client.post(base + "/unlock", json={"password": SECRET})
    assert unlocked.status_code == 200, unlocked.text
    proof = unlocked.json()["access_token"]
    client.cookies.clear()  # the header alone proves it

    info = await client.get(base, headers={"X-Link-Access": proof})
    assert info.status_code == 200, info.text
    assert (info.json()["name"], info.json()["size"], info.json()["items"]) == ("plan.txt", len(data), None)
    whole = await client.get(base + "/content", headers={"X-Link-Access": proof})
    assert whole.status_code == 200
    assert whole.content == data
    part = await client.get(base + "/content", headers={"X-Link-Access": proof, "Range": "bytes=7-11"})
    assert part.status_code == 206
    assert part.content == data[7:12]
    assert part.headers["content-range"] == f"bytes 7-11/{len(data)}"
    tampered_proof = proof[:-2] + ("AA" if not proof.endswith("AA") else "BB")
    assert (await client.get(base, headers={"X-Link-Access": tampered_proof})).status_code == 401
    tampered_token = link["token"][:-1] + ("A" if link["token"][-1] != "A" else "B")
    assert (await client.get(f"/api/public/links/{tampered_token}", headers={"X-Link-Access": proof})).status_code == 404

    # Five attempts a minute per link: the sixth is refused before the password is even checked.
    for _ in range(3):
        assert (await client.post(base + "/unlock", json={"password": "guess"})).status_code == 401
    limited = await client.post(base + "/unlock", json={"password": SECRET})
    assert limited.status_code == 429
    assert "retry-after" in limited.headers
    reasons = await denials(session, link["id"])
    assert reasons.count("wrong password") == 4
    assert "too many password attempts" in reasons

    # A new password voids earlier unlocks.
    changed = await client.patch(
        f"/api/files/{file['id']}/links/{link['id']}", json={"password": "another one"}, headers=alice.headers
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get(base, headers={"X-Link-Access": proof})).status_code == 401


async def test_download_limit_is_enforced_and_only_a_started_download_resumes_for_free(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    file = await file_of(client, alice)
    link = await make_link(client, alice, file["id"], max_downloads=3)
    base = f"/api/public/links/{link['token']}"
    assert (await client.get(base)).json()["downloads_left"] == 3
    first = await client.get(base + "/content")
    assert first.status_code == 200
    ticket = first.headers["x-link-resume"]
    assert "nubes_link_resume" in client.cookies
    client.cookies.clear()  # the header alone proves it
    resumed = await client.get(base + "/content", headers={"Range": "bytes=50-", "X-Link-Resume": ticket})
    assert resumed.status_code == 206  # a resumed download is not a new one
    assert resumed.content == (b"0123456789" * 10)[50:]
    assert "x-link-resume" not in resumed.headers
    assert (await client.get(base)).json()["downloads_left"] == 2

    # A range that does not start at byte 0 counts without the ticket of a started download...
    fresh = await client.get(base + "/content", headers={"Range": "bytes=1-"})
    assert fresh.status_code == 206
    assert (await client.get(base)).json()["downloads_left"] == 1
    # ...and the ticket never makes a whole download (or one from byte 0) free.
    whole = await client.get(base + "/content", headers={"X-Link-Resume": ticket})
    assert whole.status_code == 200
    spent = await client.get(base + "/content", headers={"Range": "bytes=50-", "X-Link-Resume": ticket})
    assert spent.status_code == 410  # a used-up link serves no continuation either
    assert (await client.get(base)).status_code == 410
    assert "download limit reached" in await denials(session, link["id"])
    listed = (await client.get(f"/api/files/{file['id']}/links", headers=alice.headers)).json()
    assert [entry["download_count"] for entry in listed] == [3]


async def test_a_resume_ticket_is_bound_to_its_link_content_unlock_and_window(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a password link with a download limit and a ticket from a counted download
    WHEN a range is asked with that ticket from another link, after the content changed, with another unlock, or late
    THEN it counts as a new download each time.
    """
    file = await file_of(client, alice, "a.bin")
    link = await make_link(client, alice, file["id"], password=SECRET, max_downloads=100)
    other = await make_link(client, alice, file["id"], max_downloads=100)
    base = f"/api/public/links/{link['token']}"
    proof = (await client.post(base + "/unlock", json={"password": SECRET})).json()["access_token"]
    client.cookies.clear()

    async def left(url: str, headers: dict[str, str]) -> int:
        return int((await client.get(url, headers=headers)).json()["downloads_left"])

    unlocked = {"X-Link-Access": proof}
    ticket = (await client.get(base + "/content", headers=unlocked)).headers["x-link-resume"]
    assert await left(base, unlocked) == 99
    free = await client.get(base + "/content", headers={**unlocked, "Range": "bytes=10-", "X-Link-Resume": ticket})
    assert free.status_code == 206
    assert await left(base, unlocked) == 99

    other_base = f"/api/public/links/{other['token']}"
    assert (await client.get(other_base + "/content", headers={"Range": "bytes=10-", "X-Link-Resume": ticket})).status_code == 206
    assert await left(other_base, {}) == 99

    # Another unlock of the same link is another client (a shorter TTL: an unlock in the same second has the same proof).
    monkeypatch.setattr(links, "UNLOCK_TTL", links.UNLOCK_TTL - 60)
    again = (await client.post(base + "/unlock", json={"password": SECRET})).json()["access_token"]
    assert again != proof
    client.cookies.clear()
    moved = await client.get(base + "/content", headers={"X-Link-Access": again, "Range": "bytes=10-", "X-Link-Resume": ticket})
    assert moved.status_code == 206
    assert await left(base, unlocked) == 98

    # A new content is a new download (the validator changed).
    put = await client.put(f"/api/files/{file['id']}/content", content=b"new content here", headers=alice.headers)
    assert put.status_code == 200, put.text
    changed = await client.get(base + "/content", headers={**unlocked, "Range": "bytes=3-", "X-Link-Resume": ticket})
    assert changed.status_code == 206
    assert changed.content == b"new content here"[3:]
    assert await left(base, unlocked) == 97

    # Past the window, the ticket is spent (a window of -1 s makes a ticket that is born expired).
    monkeypatch.setattr(links, "RESUME_WINDOW", -1)
    late = (await client.get(base + "/content", headers=unlocked)).headers["x-link-resume"]
    assert await left(base, unlocked) == 96
    assert (
        await client.get(base + "/content", headers={**unlocked, "Range": "bytes=3-", "X-Link-Resume": late})
    ).status_code == 206
    assert await left(base, unlocked) == 95


async def test_expired_and_revoked_links_stop_working(client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession) -> None:
    file = await file_of(client, alice)
    link = await make_link(client, alice, file["id"], expires_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    base = f"/api/public/links/{link['token']}"
    assert (await client.get(base)).status_code == 200
    await session.execute(
        update_rows(PublicLink)
        .where(PublicLink.id == uuid.UUID(link["id"]))
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await session.flush()
    gone = await client.get(base + "/content")
    assert gone.status_code == 410
    assert "expired" in await denials(session, link["id"])

    other = await make_link(client, alice, file["id"])
    revoked = await client.delete(f"/api/files/{file['id']}/links/{other['id']}", headers=alice.headers)
    assert revoked.status_code == 204
    assert (await client.get(f"/api/public/links/{other['token']}")).status_code == 404
    actions = list(
        await session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == file["id"], AuditEvent.action.like("files.link.%"))
        )
    )
    assert sorted(actions) == ["files.link.create", "files.link.create", "files.link.revoke"]
    # Trashing the file ends its links too.
    await client.delete(f"/api/files/{file['id']}", headers=alice.headers)
    assert (await client.get(base)).status_code == 404


async def test_folder_links_list_zip_and_stay_inside_their_folder(client: httpx.AsyncClient, alice: SignedIn) -> None:
    shared = await folder(client, alice, "Shared")
    inner = await folder(client, alice, "Inner", shared["id"])
    a = await upload(client, alice, "a.txt", b"alpha", shared["id"])
    b = await upload(client, alice, "b.txt", b"beta", inner["id"])
    outside = await file_of(client, alice, "outside.txt", b"not yours")
    link = await make_link(client, alice, shared["id"], kind="edit")
    base = f"/api/public/links/{link['token']}"

    info = (await client.get(base)).json()
    assert [(item["kind"], item["name"]) for item in info["items"]] == [("folder", "Inner"), ("file", "a.txt")]
    below = (await client.get(base, params={"node_id": inner["id"]})).json()
    assert [item["name"] for item in below["items"]] == ["b.txt"]
    assert [entry["name"] for entry in below["path"]] == ["Shared"]
    child = await client.get(base + "/content", params={"node_id": b.json()["id"]})
    assert child.content == b"beta"
    assert (await client.get(base + "/content", params={"node_id": outside["id"]})).status_code == 404
    assert (await client.get(base, params={"node_id": outside["id"]})).status_code == 404
    zipped = await client.get(base + "/content")
    assert zipped.headers["content-type"] == "application/zip"
    assert zipped.content[:2] == b"PK"

    sent = await client.post(base + "/upload", params={"node_id": inner["id"]}, files={"file": ("c.txt", b"gamma", "text/plain")})
    assert sent.status_code == 201, sent.text
    names = [
        item["name"]
        for item in (await client.get("/api/files", params={"parent_id": inner["id"]}, headers=alice.headers)).json()["items"]
    ]
    assert names == ["b.txt", "c.txt"]
    replaced = await client.post(
        base + "/upload", params={"node_id": a.json()["id"]}, files={"file": ("whatever", b"ALPHA", "text/plain")}
    )
    assert replaced.status_code == 201, replaced.text
    assert (await client.get(f"/api/files/{a.json()['id']}/content", headers=alice.headers)).content == b"ALPHA"

    view = await make_link(client, alice, shared["id"], kind="view")
    refused = await client.post(f"/api/public/links/{view['token']}/upload", files={"file": ("x.txt", b"x", "text/plain")})
    assert refused.status_code == 403


async def test_drop_box_takes_uploads_only_on_the_owners_quota(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    inbox = await folder(client, alice, "Inbox")
    secret = await upload(client, alice, "existing.txt", b"private", inbox["id"])
    link = await make_link(client, alice, inbox["id"], kind="upload")
    base = f"/api/public/links/{link['token']}"
    info = (await client.get(base)).json()
    assert (info["kind"], info["items"], info["name"]) == ("upload", None, "Inbox")
    assert (await client.get(base + "/content")).status_code == 403
    assert (await client.get(base + "/content", params={"node_id": secret.json()["id"]})).status_code == 403
    assert (await client.get(base, params={"node_id": secret.json()["id"]})).status_code == 403
    assert set(await denials(session, link["id"])) == {"drop box download", "drop box listing"}

    used = (await client.get("/api/users/me/quota", headers=alice.headers)).json()["used_bytes"]
    for _ in range(2):
        sent = await client.post(base + "/upload", files={"file": ("existing.txt", b"dropped!", "text/plain")})
        assert sent.status_code == 201, sent.text
        # The answer names the file as sent, never the name it was stored under ("existing (2).txt" would tell).
        assert sent.json()["name"] == "existing.txt"
        assert "(2)" not in sent.text
        assert "(3)" not in sent.text
    names = [
        item["name"]
        for item in (await client.get("/api/files", params={"parent_id": inbox["id"]}, headers=alice.headers)).json()["items"]
    ]
    assert names == ["existing (2).txt", "existing (3).txt", "existing.txt"]
    assert (await client.get("/api/users/me/quota", headers=alice.headers)).json()["used_bytes"] == used + 16
    # A full quota is told as full, never with how many bytes the owner has left.
    await quota.set_user_quota(session=session, tenant_id=alice.user.tenant_id, user_id=alice.user.id, quota_bytes=used + 20)
    for size in (10, 1000):
        full = await client.post(base + "/upload", files={"file": ("big.bin", b"x" * size, "application/octet-stream")})
        assert full.status_code == 413, full.text
        assert not any(char.isdigit() for char in full.json()["detail"]), full.text
    await quota.set_user_quota(session=session, tenant_id=alice.user.tenant_id, user_id=alice.user.id, quota_bytes=None)
    file = await file_of(client, alice, "single.txt")
    assert (
        await client.post(f"/api/files/{file['id']}/links", json={"kind": "upload"}, headers=alice.headers)
    ).status_code == 422


async def test_tenant_link_policy_is_enforced(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    admin = await login(client, await make_user(session, settings, await _tenant_of(session, alice), roles=("admin",)))
    assert (await client.put("/api/admin/settings/links", json={"max_expiry_days": 7}, headers=alice.headers)).status_code == 403
    bad = await client.put("/api/admin/settings/links", json={"max_expiry_days": 0}, headers=admin.headers)
    assert bad.status_code == 422
    not_bool = await client.put("/api/admin/settings/links", json={"require_password": "yes"}, headers=admin.headers)
    assert not_bool.status_code == 422
    policy = {"default_expiry_days": 3, "max_expiry_days": 7, "require_password": True}
    saved = await client.put("/api/admin/settings/links", json=policy, headers=admin.headers)
    assert saved.status_code == 200, saved.text
    assert (await client.get("/api/admin/settings/links", headers=admin.headers)).json() == policy
    assert (await client.get("/api/files/link-policy", headers=alice.headers)).json() == policy

    file = await file_of(client, alice)
    no_password = await client.post(f"/api/files/{file['id']}/links", json={}, headers=alice.headers)
    assert no_password.status_code == 422
    assert no_password.json()["errors"][0]["loc"] == ["body", "require_password"]
    too_long = await client.post(
        f"/api/files/{file['id']}/links",
        json={"password": SECRET, "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()},
        headers=alice.headers,
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["loc"] == ["body", "max_expiry_days"]
    never = await client.post(
        f"/api/files/{file['id']}/links", json={"password": SECRET, "expires_at": None}, headers=alice.headers
    )
    assert never.status_code == 422
    made = await make_link(client, alice, file["id"], password=SECRET)
    expires = datetime.fromisoformat(made["expires_at"])
    assert timedelta(days=2, hours=23) < expires - datetime.now(UTC) <= timedelta(days=3)
    dropped = await client.patch(f"/api/files/{file['id']}/links/{made['id']}", json={"password": None}, headers=alice.headers)
    assert dropped.status_code == 422
    policy_audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "files.link_policy.update"))
    assert policy_audit is not None


async def _tenant_of(session: AsyncSession, who: SignedIn) -> Any:
    from nubes.identity.tenants.models import Tenant  # noqa: PLC0415 - only this helper needs it

    return await session.get_one(Tenant, who.user.tenant_id)


async def test_another_tenant_cannot_manage_links(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    file = await file_of(client, alice)
    link = await make_link(client, alice, file["id"])
    mallory = await login(client, await make_user(session, settings, await make_tenant(session), roles=("owner",)))
    assert (await client.get(f"/api/files/{file['id']}/links", headers=mallory.headers)).status_code == 404
    assert (await client.delete(f"/api/files/{file['id']}/links/{link['id']}", headers=mallory.headers)).status_code == 404
    assert (await client.get(f"/api/public/links/{link['token']}")).status_code == 200
