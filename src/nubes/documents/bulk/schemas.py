"""Pydantic shapes of bulk actions: the documents, and the one action done to each."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_DOCUMENTS = 500
"""How many documents one bulk action may take."""

DocumentIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_DOCUMENTS, description="The documents, at most 500.")]
TermIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)]


class BulkBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_ids: DocumentIds


class AddTags(BulkBase):
    """Give each document these tags (those it has stay)."""

    action: Literal["add_tags"]
    tag_ids: TermIds


class RemoveTags(BulkBase):
    """Take these tags off each document."""

    action: Literal["remove_tags"]
    tag_ids: TermIds


class SetType(BulkBase):
    """Set each document's type (`null`: clear it)."""

    action: Literal["set_type"]
    type_id: uuid.UUID | None


class SetCorrespondent(BulkBase):
    """Set each document's correspondent (`null`: clear it)."""

    action: Literal["set_correspondent"]
    correspondent_id: uuid.UUID | None


class AddCategories(BulkBase):
    """File each document in these categories too."""

    action: Literal["add_categories"]
    category_ids: TermIds


class RemoveCategories(BulkBase):
    """Take each document out of these categories."""

    action: Literal["remove_categories"]
    category_ids: TermIds


class RemoveDocuments(BulkBase):
    """Forget the documents' metadata; their files stay where they are."""

    action: Literal["remove"]


class TrashDocuments(BulkBase):
    """Move the documents' files to the trash (restoring a file brings its document back)."""

    action: Literal["trash"]


class ShareDocuments(BulkBase):
    """Share each document's file with a user or a group of your organization."""

    action: Literal["share"]
    user_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    permission: Literal["view", "edit"] = "view"

    @model_validator(mode="after")
    def _one_recipient(self) -> ShareDocuments:
        if (self.user_id is None) == (self.group_id is None):
            raise ValueError("Give either user_id or group_id: the one user or group to share with.")
        return self


BulkEdit = Annotated[
    AddTags
    | RemoveTags
    | SetType
    | SetCorrespondent
    | AddCategories
    | RemoveCategories
    | RemoveDocuments
    | TrashDocuments
    | ShareDocuments,
    Field(discriminator="action"),
]


class BulkResult(BaseModel):
    """What the action did: the documents it changed, and those that were as asked already."""

    action: str
    changed: list[uuid.UUID]
    unchanged: list[uuid.UUID]


class BulkDownload(BaseModel):
    """The documents to download in one zip."""

    model_config = ConfigDict(extra="forbid")
    document_ids: DocumentIds
