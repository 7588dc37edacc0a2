"""apps.data in the generic suites: bodies, and tenant A's member's collection with a document and an attachment."""

from __future__ import annotations

import uuid
from typing import Any

from nubes.apps.data import service
from nubes.apps.data.feed import FeedHub
from nubes.apps.data.models import DataAttachment
from nubes.core.events import Bus
from nubes.core.principal import Principal
from nubes.core.storage import LocalStorage
from tests.access import TenantA

PUBLIC: frozenset[str] = frozenset()

BODIES: dict[str, dict[str, Any]] = {
    "apps-data-documents-put": {"written": "by another tenant"},
    "apps-data-documents-create": {"body": {"written": "by another tenant"}},
    "apps-data-documents-bulk": {"docs": [{"key": "a", "body": {"written": "by another tenant"}}]},
    "apps-data-attachments-put": {"written": "by another tenant"},
    "apps-data-attachments-presign-upload": {"size": 1},
    "apps-data-attachments-finalize": {"size": 1},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """Tenant A's member's collection `posts` with the document `a` and its attachment `photo.jpg`.

    The space is the member's own user id: `me` would name tenant B's own space, where a write is B's to make.
    """
    session = tenant_a.session
    member = Principal(
        user_id=uuid.UUID(tenant_a.ids["user_id"]),
        tenant_id=uuid.UUID(tenant_a.ids["tenant_id"]),
        username="member",
        permissions=frozenset({"apps.use"}),
    )
    storage = LocalStorage(tenant_a.settings.data_dir / "blobs", secret="access-suite")
    written = await service.write(
        session=session, settings=tenant_a.settings, storage=storage, feeds=FeedHub(Bus()), principal=member,
        space="me", name="posts", writes=[service.Write("a", None, service.encode({"title": "tenant A's"}))],
    )  # fmt: skip
    session.add(
        DataAttachment(
            tenant_id=member.tenant_id, document_id=written[0].id, name="photo.jpg", size=1, blob_key="ab" * 16,
            charged_to=member.user_id,
        )
    )  # fmt: skip
    await session.flush()
    return {"space": str(member.user_id), "collection": "posts", "doc_key": "a", "attachment": "photo.jpg"}
