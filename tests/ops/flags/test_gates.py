"""Flags gating real code, on both engines: WebDAV's `Depth: infinity` PROPFIND (`files.dav_infinity`) is refused with
the RFC's precondition while the flag is off and answers the whole tree once it is on; the search indexer OCRs a
tenant's images among plain files (`search.ocr_files`) only while the tenant has the flag on."""

from __future__ import annotations

import uuid

import defusedxml.ElementTree as SafeET
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.files.dav import service as dav_service
from nubes.search import service as search
from nubes.search.models import SearchEntry
from tests.documents import samples
from tests.factories import SignedIn, login, make_tenant, make_user

NS = {"d": "DAV:"}


@pytest.fixture
async def people(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> tuple[SignedIn, SignedIn]:
    """A tenant's admin and a platform administrator (of another tenant)."""
    admin = await login(client, await make_user(session, settings, await make_tenant(session), roles=("admin",)))
    root = await login(client, await make_user(session, settings, await make_tenant(session), superadmin=True))
    return admin, root


async def dav(client: httpx.AsyncClient, who: SignedIn, method: str, path: str = "", **kwargs: object) -> httpx.Response:
    headers = {**who.headers, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return await client.request(method, f"/dav/files/{who.user.username}/{path}", headers=headers, **kwargs)  # type: ignore[arg-type]


def hrefs(answer: httpx.Response) -> dict[str, str]:
    """Each response's href and the status it carries (its own, or its first propstat's)."""
    assert answer.status_code == 207, answer.text
    found = {}
    for response in SafeET.fromstring(answer.content).findall("d:response", NS):
        status = response.findtext("d:status", namespaces=NS) or response.findtext("d:propstat/d:status", namespaces=NS)
        found[str(response.findtext("d:href", namespaces=NS))] = str(status).split()[1]
    return found


async def test_depth_infinity_is_refused_until_the_install_turns_its_flag_on(
    client: httpx.AsyncClient, people: tuple[SignedIn, SignedIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, root = people
    assert (await dav(client, admin, "MKCOL", "a/")).status_code == 201
    assert (await dav(client, admin, "MKCOL", "a/b/")).status_code == 201
    assert (await dav(client, admin, "PUT", "a/b/deep.txt", content=b"deep")).status_code == 201
    assert (await dav(client, admin, "PUT", "top.txt", content=b"top")).status_code == 201

    refused = await dav(client, admin, "PROPFIND", headers={"Depth": "infinity"})
    assert refused.status_code == 403
    assert SafeET.fromstring(refused.content).find("d:propfind-finite-depth", NS) is not None

    turned = await client.put("/api/ops/flags/files.dav_infinity/install", json={"enabled": True}, headers=root.headers)
    assert turned.status_code == 200, turned.text
    base = f"/dav/files/{admin.user.username}/"
    whole = hrefs(await dav(client, admin, "PROPFIND", headers={"Depth": "infinity"}))
    assert whole == {base: "200", f"{base}a/": "200", f"{base}a/b/": "200", f"{base}a/b/deep.txt": "200", f"{base}top.txt": "200"}
    assert set(hrefs(await dav(client, admin, "PROPFIND", headers={"Depth": "1"}))) == {base, f"{base}a/", f"{base}top.txt"}

    # Past the limit the answer ends with a 507 for the folder asked (RFC 4918 9.1).
    monkeypatch.setattr(dav_service, "INFINITY_LIMIT", 2)
    cut = hrefs(await dav(client, admin, "PROPFIND", headers={"Depth": "infinity"}))
    assert cut[base] == "507"
    assert len(cut) == 3

    assert (await client.delete("/api/ops/flags/files.dav_infinity/install", headers=root.headers)).status_code == 204
    assert (await dav(client, admin, "PROPFIND", headers={"Depth": "infinity"})).status_code == 403


async def upload(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes) -> str:
    answer = await client.post("/api/files/upload/raw", params={"name": name}, content=data, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def body_of(session: AsyncSession, file_id: str) -> str:
    entry = await session.scalar(select(SearchEntry).where(SearchEntry.file_id == uuid.UUID(file_id)))
    assert entry is not None
    return entry.body


async def test_images_among_plain_files_are_read_only_where_the_tenant_turned_ocr_on(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    people: tuple[SignedIn, SignedIn],
) -> None:
    admin, _ = people
    before = await upload(client, admin, "before.png", samples.png(["Lighthouse receipt 4242"]))
    await search.index_files(sessions, app.state.storage)
    assert await body_of(session, before) == "", "off: an image is found by its name only"

    turned = await client.put("/api/ops/flags/search.ocr_files", json={"enabled": True}, headers=admin.headers)
    assert turned.status_code == 200, turned.text
    after = await upload(client, admin, "after.png", samples.png(["Lighthouse receipt 4242"]))
    await search.index_files(sessions, app.state.storage)
    assert "Lighthouse" in await body_of(session, after)
