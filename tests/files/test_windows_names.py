"""The Windows name rule a tenant may choose to apply: what it refuses, with a reason, what it lets through, and every
write path of the REST API applying it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.files.tree.names import windows_problem
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_user


@pytest.mark.parametrize(
    "name",
    ['a:b.txt', "what?.md", "star*", 'quote".txt', "less<", "more>", "pipe|", "back\\slash", "dot.", "space ", "CON",
     "con.txt", "Lpt1.log", "nul", "COM9.tar.gz", "aux .txt"],
)  # fmt: skip
def test_names_windows_cannot_hold_are_named_with_the_reason(name: str) -> None:
    problem = windows_problem(name)
    assert problem is not None
    assert "Windows" in problem


@pytest.mark.parametrize(
    "name", ["notes.txt", "Café", "a.b.c", ".env", "CONSOLE.txt", "com10", "LPT", "x CON", "résumé (2).pdf", "..a", "#1 % 50"]
)
def test_ordinary_names_pass(name: str) -> None:
    assert windows_problem(name) is None


def test_the_reason_names_the_characters() -> None:
    assert "* :" in (windows_problem("a:b*c") or "")


@pytest.fixture
async def owner(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, alice: SignedIn) -> SignedIn:
    tenant = await session.get_one(Tenant, alice.user.tenant_id)
    return await login(client, await make_user(session, settings, tenant, roles=("owner",)))


async def test_a_tenant_that_refuses_windows_names_refuses_them_on_every_write_path(
    client: httpx.AsyncClient, alice: SignedIn, owner: SignedIn
) -> None:
    """GIVEN a tenant that allows every name (the default) WHEN its admin turns on "refuse" THEN making a folder, uploading
    (small and streamed), renaming, moving under a new name and copying under a new name with a name Windows cannot
    hold are 422 with the reason, and nothing is made; names already there stay; turning it off allows them again."""
    url = f"/api/admin/tenants/{alice.user.tenant_id}/files-settings"
    assert (await client.get(url, headers=owner.headers)).json()["windows_names"] == "allow"
    early = await client.post("/api/files/folders", json={"name": "before: made"}, headers=alice.headers)
    assert early.status_code == 201, early.text
    plain = await client.post("/api/files/upload/raw", params={"name": "plain.txt"}, content=b"x", headers=alice.headers)
    assert plain.status_code == 201, plain.text

    turned = await client.put(url, json={"keep_versions": 10, "keep_days": 0, "windows_names": "refuse"}, headers=owner.headers)
    assert turned.status_code == 200, turned.text
    assert turned.json()["windows_names"] == "refuse"
    refused = [
        await client.post("/api/files/folders", json={"name": "a:b"}, headers=alice.headers),
        await client.post("/api/files/upload/raw", params={"name": "CON.txt"}, content=b"x", headers=alice.headers),
        await client.post("/api/files/upload", files={"file": ("what?.md", b"x" * 100, "text/markdown")}, headers=alice.headers),
        await client.patch(f"/api/files/{plain.json()['id']}", json={"name": "trailing."}, headers=alice.headers),
        await client.post(f"/api/files/{plain.json()['id']}/copy", json={"name": "pipe|copy.txt"}, headers=alice.headers),
    ]
    for answer in refused:
        assert answer.status_code == 422, answer.text
        assert "Windows" in answer.json()["detail"]
    listing = (await client.get("/api/files", headers=alice.headers)).json()
    assert {item["name"] for item in listing["items"]} == {"before: made", "plain.txt"}  # nothing made, the old name stays
    renamed = await client.patch(f"/api/files/{early.json()['id']}", json={"name": "after"}, headers=alice.headers)
    assert renamed.status_code == 200, renamed.text

    assert (await client.put(url, json={"keep_versions": 10, "keep_days": 0}, headers=owner.headers)).json()[
        "windows_names"
    ] == "refuse"  # unchanged when absent
    await client.put(url, json={"keep_versions": 10, "keep_days": 0, "windows_names": "allow"}, headers=owner.headers)
    assert (await client.post("/api/files/folders", json={"name": "a:b"}, headers=alice.headers)).status_code == 201


async def test_the_policy_takes_only_its_two_values_and_only_from_an_admin(
    client: httpx.AsyncClient, alice: SignedIn, owner: SignedIn
) -> None:
    url = f"/api/admin/tenants/{alice.user.tenant_id}/files-settings"
    bad = await client.put(url, json={"keep_versions": 10, "keep_days": 0, "windows_names": "sometimes"}, headers=owner.headers)
    assert bad.status_code == 422
    member = await client.put(url, json={"keep_versions": 10, "keep_days": 0, "windows_names": "refuse"}, headers=alice.headers)
    assert member.status_code == 403
