"""The files domain's manifest: the file tree, versions, quotas, sharing, links, uploads, thumbnails."""

from __future__ import annotations

from nubes.core.domain import Domain
from nubes.files.permissions import PERMISSIONS
from nubes.files.tree import flows

# Cross-domain reactions register when imported: every new user gets a root folder.
FLOWS = (flows,)

DOMAIN = Domain(
    name="files",
    title="Files",
    permissions=PERMISSIONS,
    models=(
        "nubes.files.dav.models",
        "nubes.files.links.models",
        "nubes.files.locks.models",
        "nubes.files.nextcloud.models",
        "nubes.files.quota.models",
        "nubes.files.sharing.models",
        "nubes.files.thumbnails.models",
        "nubes.files.tree.models",
        "nubes.files.uploads.models",
        "nubes.files.versions.models",
    ),
    api="nubes.files.api",
    root_api="nubes.files.root_api",
    tasks="nubes.files.tasks",
)
