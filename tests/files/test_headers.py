"""Any stored name is safe in a download's headers, even one the name rules would refuse today (older data, a bug)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import names
from nubes.files.tree.models import FileNode
from tests.factories import SignedIn
from tests.files.test_links import make_link
from tests.files.test_tree import folder, upload

# (NUL and lone surrogates cannot be stored by PostgreSQL; the property test below covers them.)
HOSTILE = [
    'evil\r\nSet-Cookie: stolen=1; x="y".txt',
    "line\nbreak\ttab\x7fdel.txt",
    '"quoted"; filename="other.exe"',
    "Résumé «final» 履歴書 🎉.pdf",
    "",
    "\r\n",
]


@given(st.text(st.characters(exclude_categories=())))  # surrogates included
def test_content_disposition_is_one_printable_ascii_line_for_any_name(name: str) -> None:
    header = names.content_disposition(name)
    assert header.isascii()
    assert header.isprintable()
    assert header.count('"') == 2  # only the fallback's own quotes: a name cannot close it early
    header.encode("latin-1")  # what the server will do with it


@pytest.mark.parametrize("storage", ["local"], indirect=True)
async def test_downloads_of_hostile_stored_names_keep_their_headers_whole(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    """GIVEN files and a folder whose stored names hold CR/LF, quotes, NUL, non-ASCII or a lone surrogate
    WHEN they are downloaded (a file, a folder as a zip, through a public link)
    THEN each answer is 200 with one Content-Disposition and no header injected.
    """
    box = await folder(client, alice, "box")
    for index, name in enumerate(HOSTILE):
        sent = await upload(client, alice, f"plain {index}.txt", b"data", box["id"])
        assert sent.status_code == 201, sent.text
        # Written directly: the API refuses these names, which is the point of testing the header alone.
        node_id = uuid.UUID(sent.json()["id"])
        await session.execute(update(FileNode).where(FileNode.id == node_id).values(name=name))
        await session.flush()
        link = await make_link(client, alice, str(node_id))
        for response in (
            await client.get(f"/api/files/{node_id}/content", headers=alice.headers),
            await client.get(f"/api/public/links/{link['token']}/content"),
        ):
            assert response.status_code == 200, (name, response.text)
            assert response.content == b"data"
            assert response.headers.get_list("content-disposition") == [names.content_disposition(name)]
            # The public download's own resume cookie only: nothing from the name.
            assert all(cookie.startswith("nubes_link_resume=") for cookie in response.headers.get_list("set-cookie"))
            assert not any(key.lower().startswith("stolen") for key in response.headers)
    await session.execute(update(FileNode).where(FileNode.id == uuid.UUID(box["id"])).values(name=HOSTILE[0]))
    await session.flush()
    zipped = await client.get(f"/api/files/{box['id']}/content", headers=alice.headers)
    assert zipped.status_code == 200, zipped.text
    assert zipped.headers.get_list("content-disposition") == [names.content_disposition(HOSTILE[0] + ".zip")]
    assert "set-cookie" not in zipped.headers


@pytest.mark.parametrize("storage", ["local"], indirect=True)
async def test_non_ascii_proofs_tickets_and_tokens_are_refused_not_crashed_on(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a password link, the presigned blob routes and tus uploads
    WHEN a client sends an unlock proof, a resume ticket, a URL token or a length holding non-ASCII characters
    THEN it is refused like any wrong value (compare_digest raises on non-ASCII str: no 500).
    """
    sent = await upload(client, alice, "a.txt", b"data")
    link = await make_link(client, alice, sent.json()["id"], password="correct horse battery staple")
    base = f"/api/public/links/{link['token']}"
    odd = "9999999999.\u00e9".encode("latin-1")
    assert (await client.get(base, headers={b"X-Link-Access": odd})).status_code == 401
    # `str.isdigit` takes "²" and int() refuses it, as it refuses more than 4,300 digits.
    for stamp in ("\u00b2".encode("latin-1"), b"9" * 5000):
        assert (await client.get(base, headers={b"X-Link-Access": stamp + b".x"})).status_code == 401
        tus = [
            (b"Authorization", alice.headers["Authorization"].encode()),
            (b"Tus-Resumable", b"1.0.0"),
            (b"Upload-Length", stamp),
        ]
        assert (await client.post("/api/uploads", headers=tus)).status_code == 400
    plain = await make_link(client, alice, sent.json()["id"])
    resumed = await client.get(
        f"/api/public/links/{plain['token']}/content", headers={b"X-Link-Resume": odd, b"Range": b"bytes=1-"}
    )
    assert resumed.status_code == 206  # counted as a new download, not a crash
    assert (await client.get("/api/blobs/download/abc.9999999999.%C3%A9")).status_code in {403, 410}
    assert (await client.put("/api/blobs/upload/abc.9999999999.%C3%A9", content=b"x")).status_code in {403, 410}
