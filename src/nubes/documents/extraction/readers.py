"""Reading a document's text from its bytes: PDF text layers, OCR of scans and images, plain text, e-mail, .docx.

Blocking code (run it in a thread). Every reader is bounded: pages, pixels, bytes of text and seconds of OCR, so a
hostile file (a decompression bomb, a PDF of a million pages, an image of a billion pixels) fails with its reason
instead of exhausting the worker. `Unreadable` is a file that will never be read (encrypted, corrupt, too big, of
a type nothing reads): its job fails at once, without retries.
"""

from __future__ import annotations

import email
import email.policy
import io
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser

import docx
import pypdfium2 as pdfium
from PIL import Image

MAX_PAGES = 500
"""PDF pages read; a longer document fails (split it)."""
MAX_PIXELS = 40_000_000
"""An image (or a rendered PDF page) with more pixels is not decoded."""
MAX_TEXT = 5_000_000
"""Characters of text kept; the rest is cut."""
MAX_UNZIPPED = 200 * 1024 * 1024
"""Bytes a .docx may unzip to."""
OCR_SCALE = 300 / 72
"""PDF pages are rendered at 300 dpi for OCR (PDF units are 1/72 inch)."""
OCR_SECONDS = 120
"""Seconds OCR may take for one page or image."""
MIN_LAYER_CHARS = 20
"""A PDF page with fewer characters in its text layer is treated as a scan and OCRed."""

Progress = Callable[[int], None]


class Unreadable(Exception):
    """The file's text cannot be read, and trying again will not change that; the message says why."""


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    method: str  # text-layer | ocr | text-layer+ocr | plain | email | office
    pages: int


def read(data: bytes, *, name: str, content_type: str, languages: str, progress: Progress, ocr: bool = True) -> Extracted:
    """The text of a file, by its type (sniffed from the bytes first, then the name and declared type). Without
    `ocr`, images are not read and PDF pages without a text layer give no text (the search index of plain files)."""
    lower = name.lower()
    if data.startswith(b"%PDF-") or content_type == "application/pdf" or lower.endswith(".pdf"):
        return _pdf(data, languages, progress, ocr=ocr)
    if lower.endswith(".eml") or content_type == "message/rfc822":
        return Extracted(_email(data), "email", 1)
    if lower.endswith(".docx") or content_type.endswith("wordprocessingml.document"):
        return Extracted(_docx(data), "office", 1)
    if content_type.startswith("image/") or lower.endswith((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".gif", ".bmp")):
        if not ocr:
            raise Unreadable("Images are read (by OCR) only as documents.")
        return Extracted(_ocr_image(_image(data), languages), "ocr", 1)
    if content_type.startswith("text/") or lower.endswith((".txt", ".md", ".csv", ".log", ".json", ".xml", ".html", ".htm")):
        text = data.decode("utf-8", errors="replace")
        if content_type == "text/html" or lower.endswith((".html", ".htm")):
            text = _html_text(text)
        return Extracted(text[:MAX_TEXT], "plain", 1)
    raise Unreadable(f"Nubes does not read text from {content_type or 'this type of'} files yet ({name}).")


_PDFIUM = threading.Lock()
"""PDFium is not thread-safe (pypdfium2's documentation): the extraction worker and the search indexer read PDFs in
worker threads, one at a time."""


def _pdf(data: bytes, languages: str, progress: Progress, *, ocr: bool) -> Extracted:
    with _PDFIUM:
        return _pdf_locked(data, languages, progress, ocr=ocr)


def _pdf_locked(data: bytes, languages: str, progress: Progress, *, ocr: bool) -> Extracted:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise Unreadable("The PDF is encrypted with a password; upload an unlocked copy.") from None
        raise Unreadable(f"The PDF cannot be opened ({reason}); it may be damaged.") from None
    try:
        count = len(document)
        if count > MAX_PAGES:
            raise Unreadable(f"The PDF has {count} pages; Nubes reads at most {MAX_PAGES}.")
        texts: list[str] = []
        used: set[str] = set()
        for index in range(count):
            page = document[index]
            try:
                text = page.get_textpage().get_text_bounded()
                if len(text.strip()) < MIN_LAYER_CHARS and ocr:
                    width, height = page.get_size()
                    if width * height * OCR_SCALE**2 > MAX_PIXELS:
                        raise Unreadable(f"Page {index + 1} is too large to scan ({width:.0f} x {height:.0f} points).")
                    image = page.render(scale=OCR_SCALE).to_pil()
                    text = _ocr_image(image, languages)
                    used.add("ocr")
                else:
                    used.add("text-layer")
            finally:
                page.close()
            texts.append(text.replace("\r\n", "\n").strip())
            progress(int((index + 1) * 100 / max(count, 1)))
            if sum(len(part) for part in texts) > MAX_TEXT:
                break
        method = "+".join(sorted(used, key=lambda method: method != "text-layer")) or "text-layer"
        return Extracted("\n\n".join(texts)[:MAX_TEXT], method, count)
    finally:
        document.close()


def _image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise Unreadable(f"The image has {width} x {height} pixels; Nubes reads at most {MAX_PIXELS:,}.")
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Unreadable(f"The image cannot be decoded ({type(exc).__name__}: {exc}).") from None
    return image


def _ocr_image(image: Image.Image, languages: str) -> str:
    """The text Debian's tesseract reads from an image (grey, PNG through a pipe)."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise Unreadable("OCR needs tesseract, which is not installed on this server (Debian: apt install tesseract-ocr).")
    png = io.BytesIO()
    image.convert("L").save(png, format="PNG")
    try:
        done = subprocess.run(  # noqa: S603 - a fixed binary, arguments from settings, the image on stdin
            [binary, "stdin", "stdout", "-l", languages],
            input=png.getvalue(),
            capture_output=True,
            timeout=OCR_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Unreadable(f"OCR took longer than {OCR_SECONDS} s for one page.") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise OcrFailed(f"tesseract failed: {message[0][:200]}")
    return done.stdout.decode("utf-8", errors="replace")


class OcrFailed(Exception):
    """tesseract itself failed (a missing language pack, a crash): worth a retry once the server is fixed."""


def _email(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        raise Unreadable("The e-mail cannot be parsed.")
    head = [f"{field}: {message[field]}" for field in ("Subject", "From", "To", "Date") if message[field]]
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = body.get_content()
        text = content if body.get_content_type() == "text/plain" else _html_text(content)
    attachments = [part.get_filename() for part in message.iter_attachments() if part.get_filename()]
    tail = [f"Attachment: {name}" for name in attachments]
    return "\n".join([*head, "", text.strip(), *tail])[:MAX_TEXT]


def _docx(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(item.file_size for item in archive.infolist()) > MAX_UNZIPPED:
                raise Unreadable(f"The document unzips to more than {MAX_UNZIPPED // 2**20} MiB.")
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"The .docx cannot be opened ({type(exc).__name__}); it may be damaged.") from None
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)[:MAX_TEXT]


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in {"script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
