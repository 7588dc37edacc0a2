"""The documents domain in the generic suites: tenant A's vocabulary terms and a document on its file."""

from __future__ import annotations

import uuid
from typing import Any

from nubes.core.db import utcnow
from nubes.documents.fields.models import CustomField, CustomFieldValue
from nubes.documents.records.models import Document
from nubes.documents.suggestions.models import Suggestion
from nubes.documents.views.models import SavedView
from nubes.documents.vocabulary.models import Category, Correspondent, DocumentType, Tag
from tests.access import TenantA

PUBLIC: frozenset[str] = frozenset()

BODIES: dict[str, dict[str, Any]] = {
    "documents-types-create": {"name": "Invoice"},
    "documents-types-rename": {"name": "Bill"},
    "documents-correspondents-create": {"name": "Acme"},
    "documents-correspondents-rename": {"name": "Acme Inc"},
    "documents-tags-create": {"name": "paid"},
    "documents-tags-update": {"name": "unpaid"},
    "documents-categories-create": {"name": "Finance"},
    "documents-categories-update": {"name": "Money"},
    "documents-categories-merge": {"into_id": "00000000-0000-4000-8000-000000000000"},
    "documents-add": {"file_id": "00000000-0000-4000-8000-000000000000"},
    "documents-update": {"title": "renamed by another tenant"},
    "documents-fields-create": {"name": "Amount", "data_type": "number"},
    "documents-fields-update": {"name": "Total"},
    "documents-views-create": {"name": "Unpaid invoices"},
    "documents-views-update": {"name": "renamed by another tenant"},
    "documents-bulk": {"action": "remove", "document_ids": ["00000000-0000-4000-8000-000000000000"]},
    "documents-bulk-zip": {"document_ids": ["00000000-0000-4000-8000-000000000000"]},
    "documents-assistant-update": {"enabled": False},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """A type, a correspondent, a tag, a category, a document on the member's file (made by the files domain) and a
    suggestion for it, a saved view shared with the organization, and a custom field the document carries."""
    session = tenant_a.session
    tenant_id, member_id = uuid.UUID(tenant_a.ids["tenant_id"]), uuid.UUID(tenant_a.ids["user_id"])
    document_type = DocumentType(tenant_id=tenant_id, name="Invoice", name_key="invoice")
    correspondent = Correspondent(tenant_id=tenant_id, name="Acme", name_key="acme")
    tag = Tag(tenant_id=tenant_id, name="paid", name_key="paid")
    category = Category(tenant_id=tenant_id, name="Finance", name_key="finance")
    session.add_all([document_type, correspondent, tag, category])
    await session.flush()
    document = Document(
        tenant_id=tenant_id, file_id=uuid.UUID(tenant_a.ids["file_id"]), owner_id=member_id, title="a",
        type_id=document_type.id, added_at=utcnow(), modified_at=utcnow(),
    )  # fmt: skip
    session.add(document)
    await session.flush()
    suggestion = Suggestion(
        document_id=document.id, field="tag", term_id=tag.id, confidence=0.9, reason={"rule": "any: paid", "words": ["paid"]}
    )
    session.add(suggestion)
    view = SavedView(
        tenant_id=tenant_id, owner_id=member_id, name="Paid", query={"tag_id": str(tag.id)}, columns=["tags"], shared=True
    )
    session.add(view)
    custom_field = CustomField(tenant_id=tenant_id, name="Amount", name_key="amount", data_type="number", options=[])
    session.add(custom_field)
    await session.flush()
    session.add(CustomFieldValue(document_id=document.id, field_id=custom_field.id, number=12.0))
    await session.flush()
    return {
        "view_id": str(view.id),
        "suggestion_id": str(suggestion.id),
        "type_id": str(document_type.id),
        "correspondent_id": str(correspondent.id),
        "tag_id": str(tag.id),
        "document_category_id": str(category.id),
        "document_id": str(document.id),
        "field_id": str(custom_field.id),
    }
