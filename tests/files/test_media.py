"""Audio and video play in the browser straight from the content route: a media type it knows, and byte ranges."""

from __future__ import annotations

import httpx

from tests.factories import SignedIn


async def test_media_is_served_with_its_type_and_ranges(client: httpx.AsyncClient, alice: SignedIn) -> None:
    body = bytes(range(256)) * 40
    # GIVEN a video sent as generic bytes (as API clients often do) WHEN it is stored THEN its type comes from its name.
    video = await client.post(
        "/api/files/upload/raw",
        params={"name": "clip.mp4"},
        content=body,
        headers={**alice.headers, "Content-Type": "application/octet-stream"},
    )
    assert video.status_code == 201, video.text
    assert video.json()["content_type"] == "video/mp4"
    audio = await client.post("/api/files/upload", files={"file": ("song.mp3", body, "audio/mpeg")}, headers=alice.headers)
    assert audio.json()["content_type"] == "audio/mpeg"

    for file in (video.json(), audio.json()):
        url = f"/api/files/{file['id']}/content"
        whole = await client.get(url, headers=alice.headers)
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-type"] == file["content_type"]
        # A media element seeks with open-ended and bounded ranges.
        part = await client.get(url, headers={**alice.headers, "Range": "bytes=1000-"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 1000-{len(body) - 1}/{len(body)}"
        assert part.content == body[1000:]
        assert part.headers["content-type"] == file["content_type"]
        bounded = await client.get(url, headers={**alice.headers, "Range": "bytes=0-1"})
        assert (bounded.status_code, bounded.content) == (206, body[:2])

    # A declared type is kept as it was sent.
    typed = await client.post(
        "/api/files/upload/raw",
        params={"name": "data.mp4"},
        content=b"x",
        headers={**alice.headers, "Content-Type": "text/plain"},
    )
    assert typed.json()["content_type"] == "text/plain"
