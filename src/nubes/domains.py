"""Every domain of Nubes, listed once: the app, the schema, the permission catalog and the test suites read this.

Adding a domain: copy a sub-package layout, write its `domain.py` manifest (see nubes.core.domain), and add it
here. The order is the catalog's (GET /api/admin/permissions, the role editor) and the order the app mounts the
routers in.
"""

from __future__ import annotations

from nubes.apps.domain import DOMAIN as APPS
from nubes.compute.domain import DOMAIN as COMPUTE
from nubes.core.domain import Domain
from nubes.core.permissions import Permission
from nubes.documents.domain import DOMAIN as DOCUMENTS
from nubes.files.domain import DOMAIN as FILES
from nubes.identity.domain import DOMAIN as IDENTITY
from nubes.ops.domain import DOMAIN as OPS
from nubes.search.domain import DOMAIN as SEARCH

# Domains that are planned but not built yet hold only their permission codes (built-in roles grant them
# already); each gets its own package and manifest when it lands.
WORKSPACES = Domain(name="workspaces", title="Workspaces", permissions=(Permission("workspaces.use", "Open IDE workspaces"),))
MAIL = Domain(name="mail", title="Mail", permissions=(Permission("mail.use", "Read and send mail"),))
# Seed 002's `ai-service`: no package of its own (the assistant's routes and jobs are the documents'), only its code
# and the `ai-service-admin` group every tenant gets, whose members set up the AI provider.
AI_SERVICE = Domain(
    name="ai-service",
    title="the AI assistant",
    permissions=(Permission("ai.manage", "Set up the AI provider that suggests documents' metadata (URL, key, prompts)"),),
    admin_permissions=("ai.manage",),
)

DOMAINS: tuple[Domain, ...] = (IDENTITY, FILES, DOCUMENTS, AI_SERVICE, SEARCH, APPS, COMPUTE, WORKSPACES, MAIL, OPS)
