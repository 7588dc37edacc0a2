"""Real files for the documents tests, made here: a PDF with a text layer, a scanned PDF and a PNG rendered from
text (so OCR output can be checked for words), a .docx, an e-mail, and hostile ones (encrypted, corrupt, a bomb)."""

from __future__ import annotations

import io
from email.message import EmailMessage

import docx
import pikepdf
from PIL import Image, ImageDraw, ImageFont


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines` (Helvetica), written by hand: header, objects, xref, trailer."""
    body = "BT /F1 14 Tf 72 720 Td 18 TL " + " ".join(f"({_escape(line)}) Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(body)} >>\nstream\n{body}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{content}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def rendered(lines: list[str]) -> Image.Image:
    """A white page with `lines` in large black type, as a scanner would see it."""
    font = ImageFont.load_default(size=48)
    image = Image.new("L", (1700, 200 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((100, 100 + 90 * index), line, fill=0, font=font)
    return image


def scanned_pdf(lines: list[str]) -> bytes:
    """A PDF of one page image and no text layer: only OCR can read it."""
    out = io.BytesIO()
    rendered(lines).save(out, format="PDF", resolution=200)
    return out.getvalue()


def png(lines: list[str]) -> bytes:
    out = io.BytesIO()
    rendered(lines).save(out, format="PNG")
    return out.getvalue()


def word_document(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Total", "1234.56"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def email_message(subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, "billing@example.org", "alice@example.org"
    message.set_content(body)
    message.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="invoice.pdf")
    return bytes(message)


def encrypted_pdf() -> bytes:
    with pikepdf.open(io.BytesIO(text_pdf(["Secret numbers"]))) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret"))
        return out.getvalue()


def corrupt_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ngarbage that is no PDF at all\n%%EOF\n"


def bomb_png() -> bytes:
    """A few kilobytes that decode to 400 million pixels."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000), 0).save(out, format="PNG", optimize=True)
    return out.getvalue()


def pages_pdf(pages: list[list[str]], *, backgrounds: list[str] | None = None) -> bytes:
    """A PDF of one US-letter page per item of `pages`, each page's text layer holding its lines (Helvetica).

    `backgrounds`: a fill colour per page as PDF operands ("0 0 0" is black), drawn over the top half of the page
    under the text, so a picture of a page tells which page it is.
    """
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    for index, lines in enumerate(pages):
        page = pdf.add_blank_page(page_size=(612, 792))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        fill = f"{backgrounds[index]} rg 0 396 612 396 re f " if backgrounds else ""
        text = "BT 0 0 0 rg /F1 14 Tf 72 720 Td 18 TL " + " ".join(f"({_escape(line)}) Tj T*" for line in lines) + " ET"
        page.Contents = pdf.make_stream((fill + text).encode("latin-1"))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
