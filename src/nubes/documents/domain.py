"""The documents domain's manifest: vocabularies, documents on files, and the extraction of their text."""

from __future__ import annotations

from nubes.core.domain import Domain
from nubes.documents.classifier import flows as classifier_flows
from nubes.documents.extraction import flows
from nubes.documents.permissions import PERMISSIONS

# Cross-domain reactions register when imported: a document's file with a new content is read again.
FLOWS = (flows, classifier_flows)

DOMAIN = Domain(
    name="documents",
    title="Documents",
    permissions=PERMISSIONS,
    models=(
        "nubes.documents.vocabulary.models",
        "nubes.documents.records.models",
        "nubes.documents.extraction.models",
        "nubes.documents.suggestions.models",
        "nubes.documents.settings.models",
        "nubes.documents.classifier.models",
        "nubes.documents.fields.models",
        "nubes.documents.views.models",
        "nubes.documents.assistant.models",
    ),
    admin_permissions=("documents.read", "documents.write", "documents.manage"),
    api="nubes.documents.api",
    tasks="nubes.documents.tasks",
)
