"""Every table: the kernel's own and each domain's (from its manifest), so migrations see the whole schema."""

from nubes.core.audit import AuditEvent
from nubes.core.db import Base
from nubes.core.leases import Lease
from nubes.core.mail import OutboxMail
from nubes.domains import DOMAINS

for _domain in DOMAINS:
    _domain.import_models()

__all__ = ["AuditEvent", "Base", "Lease", "OutboxMail"]
