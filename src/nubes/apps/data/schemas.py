"""Pydantic shapes of apps.data: collections, documents, bulk writes, the changes feed and attachments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

COLLECTION_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"  # what an app can be granted (`data:write:<c>`)
KEY_PATTERN = r"^[A-Za-z0-9._~-]{1,200}$"
ATTACHMENT_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._~-]{0,199}$"
MAX_BULK = 100

SPACE_PATTERN = r"^(me|shared|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})$"
Space = Literal["me", "shared"]
DocumentKey = Annotated[str, Field(pattern=KEY_PATTERN, description="A document's key (letters, digits, `._~-`, 1-200).")]


class DataCollectionRead(BaseModel):
    """A collection: whose it is, which app made it, and what it holds."""

    id: uuid.UUID
    space: Space = Field(description="`me`: your own collection; `shared`: your organization's.")
    name: str
    client_id: str | None = Field(description="The app (OAuth client) that made it; null when you made it yourself.")
    documents: int = Field(description="Live documents (deleted ones not counted).")
    bytes: int = Field(description="Bytes of its documents and attachments, counted in the quota.")
    last_seq: int = Field(description="The sequence number of its latest change.")
    created_at: datetime
    updated_at: datetime = Field(description="When it last changed.")


class DataCollectionPage(BaseModel):
    """Collections, by name."""

    items: list[DataCollectionRead]


class DataDocumentRead(BaseModel):
    """A document at its current revision (`body` null once deleted)."""

    key: str
    rev: str = Field(description="`<n>-<hash>`: send it back (If-Match or `rev`) to update or delete the document.")
    seq: int = Field(description="The change that made this revision.")
    deleted: bool
    body: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class DataDocumentMeta(BaseModel):
    """A document's key and revision, as a write answers and a list shows."""

    key: str
    rev: str
    seq: int
    deleted: bool
    size: int = Field(description="Bytes of its JSON body.")
    updated_at: datetime


class DataDocumentPage(BaseModel):
    """Documents by key; pass `next_after` as `after` for the next page (null: this was the last)."""

    items: list[DataDocumentMeta]
    next_after: str | None


class DataDocumentCreate(BaseModel):
    """A new document whose key the server makes."""

    body: dict[str, Any] = Field(description="The document (a JSON object, at most 1 MiB and 32 levels deep).")


class DataBulkItem(BaseModel):
    """One write of a bulk request: create (no `rev`), update (`rev`) or delete (`rev` and `deleted`)."""

    key: DocumentKey
    rev: str | None = Field(default=None, max_length=64)
    deleted: bool = Field(default=False, strict=True)
    body: dict[str, Any] | None = None


class DataBulkWrite(BaseModel):
    """Up to 100 writes applied together: all of them or, on any conflict or refusal, none."""

    docs: list[DataBulkItem] = Field(min_length=1, max_length=MAX_BULK)


class DataBulkResult(BaseModel):
    """The revisions the bulk write made, in the order of the request."""

    items: list[DataDocumentMeta]


class DataChangeRead(BaseModel):
    """One change of the feed."""

    seq: int
    key: str
    rev: str
    deleted: bool


class DataChangesPage(BaseModel):
    """Changes after `since`, in order; pass `last_seq` as the next `since`."""

    results: list[DataChangeRead]
    last_seq: int
    pending: int = Field(description="Changes after `last_seq` not in this answer (read again at once when > 0).")


class DataAttachmentRead(BaseModel):
    """An attachment of a document."""

    name: str
    content_type: str
    size: int
    sha256: str | None
    ready: bool = Field(description="False while a presigned upload has not been finalized.")
    updated_at: datetime
    document_rev: str | None = Field(
        default=None,
        description="After a write: the document's new revision (an attachment write is a change of its document, in its "
        "feed too; an update of the document names this one). Absent in listings.",
    )


class DataAttachmentPage(BaseModel):
    """A document's attachments, by name."""

    items: list[DataAttachmentRead]


class DataAttachmentUpload(BaseModel):
    """What a presigned attachment upload will send."""

    size: int = Field(ge=0, le=1 << 40, description="Exact size in bytes (charged to the quota now).")
    content_type: str = Field(default="application/octet-stream", max_length=200, pattern=r"^[\x21-\x7e][\x20-\x7e]*$")


class DataAttachmentUploadRead(BaseModel):
    """Where to send an attachment's bytes: PUT them to `url` with `headers`, then call finalize if `finalize`."""

    url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    finalize: bool = Field(description="True: POST .../finalize once the bytes are sent (object storage).")
    expires_at: datetime


class DataAttachmentDownloadRead(BaseModel):
    """A URL that reads an attachment: the object store's own, short-lived, or this API's (with your credentials)."""

    url: str
    expires_at: datetime | None
