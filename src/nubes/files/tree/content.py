"""HTTP semantics of downloads: byte ranges (RFC 9110 §14), validators, Content-Disposition (RFC 6266), streamed zips."""

from __future__ import annotations

import re
import zipfile
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from nubes.core.errors import NubesError
from nubes.core.storage import Storage
from nubes.files.tree.models import FileNode

_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(NubesError):
    """No byte of the asked range exists; `Content-Range: bytes */<size>` tells the real size."""

    status, code, title = 416, "range-not-satisfiable", "Range not satisfiable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:  # noqa: PLR0911 - one return per rule of RFC 9110
    """The single range `Range` asks for, as (first, end exclusive); None to send the whole content.

    A header that is not a valid `bytes=` range, or asks for several ranges, is ignored (RFC 9110
    lets a server do that); a valid range that starts past the end is a 416. An empty content
    has no byte to range over and is sent whole.
    """
    if not header or size == 0:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.match(spec)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0:
            raise _unsatisfiable(size)
        return max(size - suffix, 0), size
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise _unsatisfiable(size)
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1) + 1


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The file has {size} bytes; ask for a range that starts before byte {size}.",
        headers={"Content-Range": f"bytes */{size}"},
    )


def first_byte(range_header: str | None, if_range: str | None, node: FileNode) -> int:
    """The byte a content answer will start at: a range's first byte when it is honoured (If-Range holds for the
    current content), else 0; a folder's zip always 0; 416 for a range past the end. A download limit counts only
    answers that start at 0 as new downloads."""
    if node.kind != "file" or not range_applies(if_range, etag_of(node.sha256 or ""), http_date(node.updated_at)):
        return 0
    wanted = byte_range(range_header, node.size)
    return wanted[0] if wanted is not None else 0


def whole_number(text: str | None, *, digits: int = 19) -> int | None:
    """`text` as a number when it is 1 to `digits` ASCII digits, else None.

    `str.isdigit` alone is not enough: it takes `²`, which int() refuses, and int() refuses more
    than 4,300 digits; either would be a 500 for a value any client can send.
    """
    if text is None or not 0 < len(text) <= digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def etag_of(sha256: str) -> str:
    """A strong validator: the content's SHA-256."""
    return f'"{sha256}"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` matches (weak comparison, `*` matches anything)."""
    if not if_none_match:
        return False
    tags = _tags(if_none_match)
    return "*" in tags or etag in tags


def range_applies(if_range: str | None, etag: str, last_modified: str) -> bool:
    """Whether to honour `Range`: yes without `If-Range`, else only when it names the current content (strongly)."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith("W/"):
        return False
    return value in {etag, last_modified}


def http_date(moment: datetime) -> str:
    """An IMF-fixdate for Last-Modified."""
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


PATHSEND = "http.response.pathsend"


class BlobResponse(StreamingResponse):
    """A blob's bytes: handed to the server as a file path when it can send files itself, else streamed.

    With the ASGI `http.response.pathsend` extension (Granian offers it; uvicorn does not), the server
    sends the file from its own code, so no byte passes through Python. That is only possible for a
    whole blob on the local disk (`path`): the extension has no offsets, so a range, an S3 blob, or a
    server without the extension get `chunks` streamed as usual. The headers (ETag, Content-Range,
    Content-Disposition, ...) are the caller's either way.
    """

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        path: Path | None,
        status_code: int,
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(chunks, status_code=status_code, media_type=media_type, headers=headers)
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.path is None or PATHSEND not in scope.get("extensions", {}):
            await super().__call__(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": PATHSEND, "path": str(self.path)})
        if self.background is not None:
            await self.background()


class _Sink:
    """A write-only file for zipfile: it collects what is written until the stream takes it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_member_name(path: str) -> str:
    """A zip path that no extractor can read as going up or sideways (`\\` is a separator on Windows)."""
    return path.replace("\\", "_")


async def zip_stream(entries: Sequence[tuple[str, FileNode]], storage: Storage) -> AsyncIterator[bytes]:
    """A zip of the entries, produced as it is sent (stored, not deflated: files are mostly compressed already)."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    for path, node in entries:
        info = zipfile.ZipInfo(zip_member_name(path), date_time=_zip_time(node.updated_at))
        if node.kind == "folder":
            archive.writestr(info, b"")
        elif node.blob_key is not None:
            info.file_size = node.size
            with archive.open(info, "w", force_zip64=node.size >= 2**31) as member:
                async for chunk in storage.get(node.blob_key):
                    member.write(chunk)
                    yield sink.take()
        yield sink.take()
    archive.close()
    yield sink.take()


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    if moment.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
