"""Renders the first page of a PDF as a WebP thumbnail: a script the thumbnail worker runs in a child process.

PDFium is not thread-safe (not even across documents) and a hostile PDF can make it crash, loop or allocate without
bound; in a child of its own, with a memory and CPU limit and a timeout set by the parent, none of that reaches the
server. It imports only pypdfium2 and Pillow.

- `python -I first_page.py SIZE < file.pdf > thumbnail.webp`: one PDF. Exit status: 0 with the WebP on stdout; 2 with
  the reason on stderr when the PDF cannot be rendered (encrypted, damaged, no pages, a page without a usable size).
- `python -I first_page.py --serve`: one PDF after the other, so a thousand PDFs do not start a thousand
  interpreters (each start and import cost ~90 ms of CPU, ten times the rendering of a page). Each request on stdin is
  a header (`!II`: the PDF's length, the size) and the PDF; each answer on stdout a header (`!BI`: 0 or 2 as above,
  the length) and the WebP or the reason. The CPU limit is renewed for each PDF; the parent times each one out.

Anything else (a crash, a limit hit: the process ends) is for the parent to report.
"""

from __future__ import annotations

import io
import math
import resource
import struct
import sys

MEMORY_LIMIT = 1024 * 1024 * 1024
"""Bytes of address space the renderer may use (a PDF's image can decode to far more than its compressed size)."""

CPU_SECONDS = 20
"""Seconds of CPU the renderer may use."""

MAX_SCALE = 4.0
"""A tiny page is enlarged at most this much (1 PDF point = 1 pixel at scale 1)."""

BAD_PDF = 2
SERVE = "--serve"
REQUEST = struct.Struct("!II")  # the PDF's length, the thumbnail's size
ANSWER = struct.Struct("!BI")  # 0 (a WebP follows) or BAD_PDF (the reason follows), its length


class Unrenderable(Exception):
    """The PDF cannot be rendered; the message says why."""


def render(data: bytes, size: int) -> bytes:
    """A WebP of the first page, its longest side `size` pixels at most, whatever the page's size in the PDF."""
    import pypdfium2 as pdfium  # noqa: PLC0415 - imported once the limits are set
    from PIL import Image  # noqa: PLC0415

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise Unrenderable("the PDF is encrypted with a password") from None
        raise Unrenderable(f"the PDF cannot be opened ({reason}); it may be damaged") from None
    try:
        if len(document) == 0:
            raise Unrenderable("the PDF has no pages")
        page = document[0]
        try:
            width, height = page.get_size()
            if not (math.isfinite(width) and math.isfinite(height)) or min(width, height) <= 0:
                raise Unrenderable(f"the first page has no usable size ({width} x {height} points)")
            # The scale is chosen from the page's size, so a page of a kilometre renders as small as a postcard.
            scale = min(size / max(width, height), MAX_SCALE)
            bitmap = page.render(scale=scale, may_draw_forms=False)
            try:
                image = bitmap.to_pil()
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise Unrenderable(f"the first page cannot be rendered ({exc})") from None
    finally:
        document.close()
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)  # rounding may leave a pixel over
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80)
    return out.getvalue()


def _attempt(data: bytes, size: int) -> tuple[int, bytes]:
    """0 and the WebP, or BAD_PDF and the reason."""
    try:
        return 0, render(data, size)
    except Unrenderable as exc:
        return BAD_PDF, str(exc)[:250].encode()
    except MemoryError:
        return BAD_PDF, f"rendering the first page needs more than {MEMORY_LIMIT // 2**20} MiB of memory".encode()


def _cpu_seconds_used() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def serve() -> int:
    """Render PDFs sent on stdin one after the other until stdin ends; each may use CPU_SECONDS more of CPU."""
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while header := requests.read(REQUEST.size):
        if len(header) != REQUEST.size:
            return 1
        length, size = REQUEST.unpack(header)
        data = requests.read(length)
        if len(data) != length:
            return 1
        soft = math.ceil(_cpu_seconds_used()) + CPU_SECONDS  # past it, SIGXCPU ends this process
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
        status, body = _attempt(data, size)
        answers.write(ANSWER.pack(status, len(body)) + body)
        answers.flush()
    return 0


def main(argv: list[str]) -> int:
    """One PDF from stdin to a WebP on stdout (2 and a reason on stderr when it cannot be rendered), or `--serve`."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    if argv[1:] == [SERVE]:
        return serve()
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    status, body = _attempt(sys.stdin.buffer.read(), int(argv[1]))
    (sys.stdout if status == 0 else sys.stderr).buffer.write(body)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
