"""Thumbnails: made by the background worker after an upload or a new version, never during the request; safe on bad input."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import pikepdf
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core import jobs
from nubes.core.storage import Storage
from nubes.files.thumbnails import first_page, tasks
from nubes.files.thumbnails.models import FileThumbnail
from nubes.files.thumbnails.tasks import THUMBNAIL_SIZE, ThumbnailWorker
from nubes.identity.tenants.models import Tenant
from tests.documents import samples
from tests.factories import SignedIn, login, make_user
from tests.files.conftest import blob_keys


def png(width: int, height: int, color: str = "red", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color).save(out, format="PNG")
    return out.getvalue()


def rgb_at(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    value = image.convert("RGB").getpixel((x, y))
    assert isinstance(value, tuple)
    return value


async def upload(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes, content_type: str = "image/png") -> Any:
    response = await client.post("/api/files/upload", files={"file": (name, data, content_type)}, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()


def worker(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> ThumbnailWorker:
    """The worker the app runs, bound to the test's transaction (the app starts none when it does not own the database)."""
    return ThumbnailWorker(sessions, lambda: app.state.storage)


async def test_a_thumbnail_appears_after_upload_and_is_freed_on_purge(
    client: httpx.AsyncClient,
    alice: SignedIn,
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    storage: Storage,
) -> None:
    image = await upload(client, alice, "photo.png", png(1200, 600))
    url = f"/api/files/{image['id']}/thumbnail"

    # GIVEN an image just uploaded WHEN its thumbnail is asked before the worker ran THEN 404 not ready, try again.
    pending = await client.get(url, headers=alice.headers)
    assert pending.status_code == 404
    assert pending.json()["type"] == "urn:nubes:problem:thumbnail-not-ready"
    assert pending.headers["retry-after"] == "2"

    assert await worker(app, sessions).run_due() == 1
    ready = await client.get(url, params={"size": 256}, headers=alice.headers)
    assert ready.status_code == 200, ready.text
    assert ready.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(ready.content)) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (THUMBNAIL_SIZE, THUMBNAIL_SIZE // 2)  # the longest side fits, the aspect is kept
        assert rgb_at(thumb, 10, 10)[0] > 200  # still red
    etag = ready.headers["etag"]
    assert (await client.get(url, headers={**alice.headers, "If-None-Match": etag})).status_code == 304

    # Derived data is not counted: the quota shows the image's bytes only.
    quota = (await client.get("/api/users/me/quota", headers=alice.headers)).json()
    assert quota["used_bytes"] == image["size"]
    assert len(await blob_keys(storage)) == 2  # the image and its thumbnail

    # Nothing is due any more: a finished job does not run again.
    assert await worker(app, sessions).run_due() == 0

    assert (await client.delete(f"/api/files/{image['id']}", headers=alice.headers)).status_code == 200
    assert (await client.delete(f"/api/trash/{image['id']}", headers=alice.headers)).status_code == 204
    await jobs.wait_for_after_commit()
    assert await blob_keys(storage) == set()


async def test_a_new_version_gets_a_new_thumbnail_and_the_old_one_goes(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    image = await upload(client, alice, "pic.png", png(64, 64, "blue"))
    url = f"/api/files/{image['id']}/thumbnail"
    await worker(app, sessions).run_due()
    first = await client.get(url, headers=alice.headers)
    assert first.status_code == 200

    replaced = await client.put(
        f"/api/files/{image['id']}/content", content=png(64, 32, "green"), headers={**alice.headers, "Content-Type": "image/png"}
    )
    assert replaced.status_code == 200, replaced.text
    assert (await client.get(url, headers=alice.headers)).json()["type"] == "urn:nubes:problem:thumbnail-not-ready"
    await jobs.wait_for_after_commit()
    assert len(await blob_keys(storage)) == 2  # current content and the version; the stale thumbnail went

    assert await worker(app, sessions).run_due() == 1
    second = await client.get(url, headers=alice.headers)
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    with Image.open(io.BytesIO(second.content)) as thumb:
        assert thumb.size == (64, 32)  # never enlarged
        assert rgb_at(thumb, 5, 5)[1] > 100  # green now
    assert len(await blob_keys(storage)) == 3


async def test_a_broken_image_is_marked_failed_and_not_retried(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    broken = await upload(client, alice, "broken.png", png(50, 50)[:60])  # the header, then nothing
    garbage = await upload(client, alice, "noise.jpg", b"this is not a jpeg at all", "image/jpeg")
    assert await worker(app, sessions).run_due() == 2
    for file in (broken, garbage):
        answer = await client.get(f"/api/files/{file['id']}/thumbnail", headers=alice.headers)
        assert answer.status_code == 404
        assert answer.json()["type"] == "urn:nubes:problem:thumbnail-unavailable"
        assert file["name"] in answer.json()["detail"]
    rows = list(await session.scalars(select(FileThumbnail)))
    assert {row.state for row in rows} == {"failed"}
    assert all(row.attempts == 1 and row.blob_key is None for row in rows)
    assert await worker(app, sessions).run_due() == 0  # no retry can mend a broken image


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns past the limit; the worker refuses
async def test_a_decompression_bomb_is_refused_without_decoding_it(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    # 100 megapixels of one color compress to a few kilobytes; decoded they would take 300 MB.
    bomb = png(10_000, 10_000, mode="1", color="white")
    assert len(bomb) < 100_000
    file = await upload(client, alice, "bomb.png", bomb)
    # 7,000 x 7,000 is under Pillow's own hard stop (twice the limit) but over the limit: the worker's check refuses it.
    big = await upload(client, alice, "big.png", png(7_000, 7_000, mode="1", color="white"))
    assert await worker(app, sessions).run_due() == 2
    for item in (file, big):
        answer = await client.get(f"/api/files/{item['id']}/thumbnail", headers=alice.headers)
        assert answer.status_code == 404
        assert answer.json()["type"] == "urn:nubes:problem:thumbnail-unavailable"
    rows = {row.file_id.hex: row for row in await session.scalars(select(FileThumbnail))}
    assert all(row.state == "failed" for row in rows.values())
    assert "pixels" in (rows[big["id"].replace("-", "")].error or "")


async def test_a_non_image_has_no_thumbnail_and_no_job(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    text = await upload(client, alice, "notes.txt", b"hello", "text/plain")
    assert await worker(app, sessions).run_due() == 0
    assert list(await session.scalars(select(FileThumbnail))) == []
    answer = await client.get(f"/api/files/{text['id']}/thumbnail", headers=alice.headers)
    assert answer.status_code == 404
    assert answer.json()["type"] == "urn:nubes:problem:thumbnail-unavailable"
    folder = await client.post("/api/files/folders", json={"name": "F"}, headers=alice.headers)
    assert (await client.get(f"/api/files/{folder.json()['id']}/thumbnail", headers=alice.headers)).status_code == 404


async def test_another_users_thumbnail_is_not_found(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    alice: SignedIn,
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
) -> None:
    image = await upload(client, alice, "private.png", png(20, 20))
    await worker(app, sessions).run_due()
    assert (await client.get(f"/api/files/{image['id']}/thumbnail", headers=alice.headers)).status_code == 200
    tenant = await session.get_one(Tenant, alice.user.tenant_id)
    bob = await login(client, await make_user(session, settings, tenant))
    refused = await client.get(f"/api/files/{image['id']}/thumbnail", headers=bob.headers)
    assert refused.status_code == 404
    assert refused.json()["type"] == "urn:nubes:problem:not-found"


async def test_a_copied_image_gets_its_own_thumbnail(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    image = await upload(client, alice, "a.png", png(30, 30))
    copied = await client.post(f"/api/files/{image['id']}/copy", json={}, headers=alice.headers)
    assert copied.status_code == 201, copied.text
    assert await worker(app, sessions).run_due() == 2
    for file_id in (image["id"], copied.json()["id"]):
        assert (await client.get(f"/api/files/{file_id}/thumbnail", headers=alice.headers)).status_code == 200


class SpyWorker(ThumbnailWorker):
    """A started worker that only notes its rounds (a real round would share the test's one connection)."""

    interval = 3600.0  # it would not poll within the test: only a wake makes a round

    def __init__(self, app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions, lambda: app.state.storage)
        self.woken = asyncio.Event()

    async def run_due(self, limit: int = 20) -> int:
        self.woken.set()
        return 0


async def test_every_upload_path_wakes_the_running_worker(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """GIVEN a started worker WHEN an image comes by a form post or by tus THEN its thumbnail is queued and the
    commit that queued it wakes the worker (an image that came by tus or a presigned URL got no thumbnail before)."""
    spy = SpyWorker(app, sessions)
    spy.start()
    try:
        await upload(client, alice, "form.png", png(40, 20))
        await jobs.wait_for_after_commit()
        await asyncio.wait_for(spy.woken.wait(), 10)
        spy.woken.clear()
        data = png(30, 30, "blue")
        made = await client.post(
            "/api/uploads",
            headers={
                **alice.headers, "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
                "Upload-Metadata": "filename dHVzLnBuZw==",  # tus.png
            },
        )  # fmt: skip
        assert made.status_code == 201, made.text
        assert not spy.woken.is_set()  # nothing queued yet: the bytes have not come
        patched = await client.patch(
            made.headers["location"],
            content=data,
            headers={
                **alice.headers, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )  # fmt: skip
        assert patched.status_code == 204, patched.text
        await jobs.wait_for_after_commit()
        await asyncio.wait_for(spy.woken.wait(), 10)
        pending = await sessions().scalar(select(FileThumbnail).where(FileThumbnail.state == "pending"))
        assert pending is not None
    finally:
        await spy.stop()


# --- PDFs: the first page, rendered by PDFium in a child process -------------------------------------------------------


def odd_pdf(media_box: list[float], user_unit: float | None = None) -> bytes:
    """A one-page PDF whose page has this MediaBox (pikepdf itself refuses odd sizes, so it is set afterwards)."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(612, 792))
    page.MediaBox = pikepdf.Array(media_box)
    if user_unit is not None:
        page.obj.UserUnit = user_unit
    page.Contents = pdf.make_stream(b"0 0 0 rg 0 0 100 100 re f")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


async def test_a_pdf_gets_its_first_page_as_thumbnail(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    """GIVEN a three-page PDF whose first page is dark at the top and whose others are white WHEN the worker runs THEN
    its thumbnail is the first page, a US-letter page's shape, 256 pixels high; a PDF sent with a vague type but a .pdf
    name gets one too; a .docx keeps its file-type icon (no job)."""
    pdf = samples.pages_pdf([["Page one"], ["Page two"], ["Page three"]], backgrounds=["0 0 0", "1 1 1", "1 1 1"])
    report = await upload(client, alice, "report.pdf", pdf, "application/pdf")
    vague = await upload(client, alice, "scan.PDF", samples.pages_pdf([["Hello"]]), "application/octet-stream")
    await upload(client, alice, "letter.docx", samples.word_document(["Dear Alice"]), "application/octet-stream")
    url = f"/api/files/{report['id']}/thumbnail"
    assert (await client.get(url, headers=alice.headers)).json()["type"] == "urn:nubes:problem:thumbnail-not-ready"

    assert await worker(app, sessions).run_due() == 2  # the two PDFs; the .docx has no job
    ready = await client.get(url, headers=alice.headers)
    assert ready.status_code == 200, ready.text
    assert ready.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(ready.content)) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (198, THUMBNAIL_SIZE)  # 612 x 792 points, the longest side fits
        assert max(rgb_at(thumb, 100, 30)) < 60  # the dark top of page one, not a white page
        assert min(rgb_at(thumb, 100, 230)) > 200  # its white bottom
    assert (await client.get(f"/api/files/{vague['id']}/thumbnail", headers=alice.headers)).status_code == 200
    assert len(await blob_keys(storage)) == 5  # three files, two thumbnails


async def test_a_broken_or_encrypted_pdf_fails_with_its_reason_and_never_blocks_the_queue(
    client: httpx.AsyncClient, alice: SignedIn, app: FastAPI, sessions: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    encrypted = await upload(client, alice, "locked.pdf", samples.encrypted_pdf(), "application/pdf")
    corrupt = await upload(client, alice, "damaged.pdf", samples.corrupt_pdf(), "application/pdf")
    not_pdf = await upload(client, alice, "fake.pdf", b"just some text", "application/pdf")
    image = await upload(client, alice, "after.png", png(40, 40))
    assert await worker(app, sessions).run_due() == 4
    reasons = {}
    for file in (encrypted, corrupt, not_pdf):
        answer = await client.get(f"/api/files/{file['id']}/thumbnail", headers=alice.headers)
        assert answer.status_code == 404
        assert answer.json()["type"] == "urn:nubes:problem:thumbnail-unavailable"
        reasons[file["name"]] = answer.json()["detail"]
    assert "encrypted with a password" in reasons["locked.pdf"]
    assert "cannot be opened" in reasons["damaged.pdf"]
    assert "cannot be opened" in reasons["fake.pdf"]
    # The image queued after them was made all the same.
    assert (await client.get(f"/api/files/{image['id']}/thumbnail", headers=alice.headers)).status_code == 200
    rows = list(await session.scalars(select(FileThumbnail).where(FileThumbnail.state == "failed")))
    assert len(rows) == 3
    assert all(row.attempts == 1 and row.blob_key is None for row in rows)
    assert await worker(app, sessions).run_due() == 0  # no retry can mend them


@pytest.mark.parametrize(
    ("media_box", "user_unit", "size"),
    [
        ([0, 0, 200_000, 100_000], None, (256, 128)),  # far past PDF's own limit of 14,400 points
        ([0, 0, 14_400, 14_400], 75_000.0, (256, 256)),  # a square of about 380 km, by UserUnit
        ([0, 0, 10, 5], None, (40, 20)),  # a tiny page is enlarged at most 4 times
    ],
)
def test_a_pdf_page_of_any_size_renders_bounded(media_box: list[float], user_unit: float | None, size: tuple[int, int]) -> None:
    rendered = tasks.render_pdf(odd_pdf(media_box, user_unit))
    assert (rendered.width, rendered.height) == size
    with Image.open(io.BytesIO(rendered.data)) as thumb:
        assert thumb.size == size


def test_one_renderer_process_renders_pdf_after_pdf_and_a_stuck_one_is_replaced() -> None:
    """GIVEN the PDF renderer WHEN it renders three PDFs THEN one child process made them all (no interpreter started per
    PDF); WHEN one takes longer than its time THEN that one fails with the reason and the next starts a new child."""
    renderer = tasks.PdfRenderer()
    pdf = samples.pages_pdf([["One page"]])
    try:
        answers = [renderer.render(pdf, THUMBNAIL_SIZE, timeout=60) for _ in range(3)]
        assert [status for status, _ in answers] == [0, 0, 0]
        first = renderer.pid
        assert first is not None
        assert renderer.render(samples.corrupt_pdf(), THUMBNAIL_SIZE, timeout=60)[0] == first_page.BAD_PDF
        assert renderer.pid == first  # a PDF it cannot open is an answer, not a crash
        renderer.close()  # the next child must start within the time given: it cannot, so the time runs out
        with pytest.raises(tasks.BadImage, match="longer than"):
            renderer.render(pdf, THUMBNAIL_SIZE, timeout=0.001)
        assert renderer.pid is None
        status, webp = renderer.render(pdf, THUMBNAIL_SIZE, timeout=60)
        assert status == 0
        assert webp.startswith(b"RIFF")
        assert renderer.pid not in {None, first}
    finally:
        renderer.close()


async def test_another_users_pdf_thumbnail_is_not_found(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    alice: SignedIn,
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
) -> None:
    pdf = await upload(client, alice, "private.pdf", samples.pages_pdf([["Private"]]), "application/pdf")
    await worker(app, sessions).run_due()
    tenant = await session.get_one(Tenant, alice.user.tenant_id)
    bob = await login(client, await make_user(session, settings, tenant))
    refused = await client.get(f"/api/files/{pdf['id']}/thumbnail", headers=bob.headers)
    assert refused.status_code == 404
    assert refused.json()["type"] == "urn:nubes:problem:not-found"
