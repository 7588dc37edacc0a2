"""Pydantic shapes of the documents settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Extension = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,10}$")]


class DocumentSettingsRead(BaseModel):
    max_upload_bytes: int = Field(description="The largest document one may upload into Documents (0: no limit of its own).")
    allowed_types: list[str] = Field(description="File name extensions allowed into Documents (empty: any).")
    ocr_languages: str = Field(description="Tesseract languages for scans, joined with + (`eng+deu`).")
    installed_languages: list[str] = Field(description="The OCR languages this server has (Debian tesseract-ocr-*).")


class DocumentSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_upload_bytes: int = Field(ge=0, le=2**50, strict=True)
    allowed_types: list[Extension] = Field(max_length=100)
    ocr_languages: Annotated[str, StringConstraints(pattern=r"^([a-z_]{3,20}(\+[a-z_]{3,20}){0,5})?$")] = ""
