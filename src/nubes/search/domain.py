"""The search domain's manifest: the full-text index of documents and its permission-aware query."""

from __future__ import annotations

from nubes.core.domain import Domain
from nubes.search import flows

# Cross-domain reactions register when imported: a transaction that changed documents wakes the indexer.
FLOWS = (flows,)

DOMAIN = Domain(
    name="search",
    title="Search",
    models=("nubes.search.models",),
    api="nubes.search.api",
    tasks="nubes.search.tasks",
)
