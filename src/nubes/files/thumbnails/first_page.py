"""Renders the first page of a PDF as a WebP thumbnail: a script the thumbnail worker runs in a child process.

PDFium is not thread-safe (not even across documents) and a hostile PDF can make it crash, loop or allocate without
bound; in a child of its own, with a memory and CPU limit and a timeout set by the parent, none of that reaches the
server. Usage: `python -I first_page.py SIZE < file.pdf > thumbnail.webp`. It imports only pypdfium2 and Pillow.

Exit status: 0 with the WebP on stdout; 2 with the reason on stderr when the PDF cannot be rendered (encrypted,
damaged, no pages, a page without a usable size). Anything else (a crash, a limit hit) is for the parent to report.
"""

from __future__ import annotations

import io
import math
import resource
import sys

MEMORY_LIMIT = 1024 * 1024 * 1024
"""Bytes of address space the renderer may use (a PDF's image can decode to far more than its compressed size)."""

CPU_SECONDS = 20
"""Seconds of CPU the renderer may use."""

MAX_SCALE = 4.0
"""A tiny page is enlarged at most this much (1 PDF point = 1 pixel at scale 1)."""

BAD_PDF = 2


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


def main(argv: list[str]) -> int:
    """Read the PDF from stdin, write the WebP to stdout; 2 and a reason on stderr when it cannot be rendered."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    size = int(argv[1])
    data = sys.stdin.buffer.read()
    try:
        webp = render(data, size)
    except Unrenderable as exc:
        sys.stderr.write(str(exc)[:250])
        return BAD_PDF
    except MemoryError:
        sys.stderr.write(f"rendering the first page needs more than {MEMORY_LIMIT // 2**20} MiB of memory")
        return BAD_PDF
    sys.stdout.buffer.write(webp)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
