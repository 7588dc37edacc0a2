"""Rules of the documents settings: limits checked on every upload into Documents, OCR languages the server has."""

from __future__ import annotations

import functools
import shutil
import subprocess
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.errors import PayloadTooLarge, UnprocessableEntity
from nubes.documents.settings.models import DocumentSettings
from nubes.documents.settings.schemas import DocumentSettingsRead, DocumentSettingsUpdate


@functools.cache
def installed_languages() -> tuple[str, ...]:
    """The languages Debian's tesseract has here (`tesseract --list-langs`); none without tesseract."""
    binary = shutil.which("tesseract")
    if binary is None:
        return ()
    command = [binary, "--list-langs"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603 - a fixed binary
    lines = (done.stdout or done.stderr).splitlines()
    return tuple(sorted(line.strip() for line in lines[1:] if line.strip() and line.strip() != "osd"))


async def get(session: AsyncSession, tenant_id: uuid.UUID, *, server_languages: str) -> DocumentSettingsRead:
    row = await session.get(DocumentSettings, tenant_id)
    return DocumentSettingsRead(
        max_upload_bytes=row.max_upload_bytes if row else 0,
        allowed_types=list(row.allowed_types) if row else [],
        ocr_languages=(row.ocr_languages if row and row.ocr_languages else server_languages),
        installed_languages=list(installed_languages()),
    )


async def update(session: AsyncSession, tenant_id: uuid.UUID, change: DocumentSettingsUpdate) -> None:
    """Store the settings; 422 for OCR languages this server cannot read (so no scan fails later for it)."""
    wanted = [language for language in change.ocr_languages.split("+") if language]
    missing = sorted(set(wanted) - set(installed_languages()))
    if missing:
        raise UnprocessableEntity(
            f"This server has no OCR data for {', '.join(missing)}; install it (Debian: tesseract-ocr-{missing[0]}) or "
            f"choose among {', '.join(installed_languages()) or 'none (tesseract is not installed)'}."
        )
    row = await session.get(DocumentSettings, tenant_id)
    if row is None:
        row = DocumentSettings(tenant_id=tenant_id)
        session.add(row)
    row.max_upload_bytes = change.max_upload_bytes
    row.allowed_types = sorted({extension.lower() for extension in change.allowed_types})
    row.ocr_languages, row.updated_at = change.ocr_languages, utcnow()
    await session.flush()


async def check_upload(session: AsyncSession, tenant_id: uuid.UUID, *, name: str, size: int | None) -> None:
    """422 / 413 before anything is kept: a type the organization does not allow, a document over its size limit."""
    row = await session.scalar(select(DocumentSettings).where(DocumentSettings.tenant_id == tenant_id))
    if row is None:
        return
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if row.allowed_types and extension not in row.allowed_types:
        raise UnprocessableEntity(
            f"Your organization allows only {', '.join('.' + kind for kind in row.allowed_types)} files into Documents; "
            f"{name!r} is not one. Convert it, or keep it in Files."
        )
    if row.max_upload_bytes and size is not None and size > row.max_upload_bytes:
        raise PayloadTooLarge(
            f"This document is {size:,} bytes; your organization allows up to {row.max_upload_bytes:,} in Documents."
        )


async def ocr_languages(session: AsyncSession, tenant_id: uuid.UUID) -> str | None:
    """The tenant's own OCR languages (None: the server's)."""
    value = await session.scalar(select(DocumentSettings.ocr_languages).where(DocumentSettings.tenant_id == tenant_id))
    return value or None
