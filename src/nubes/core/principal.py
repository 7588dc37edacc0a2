"""Who is acting: the identity every service receives, whatever the credential was."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user in a tenant with the permissions their roles grant."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    username: str
    permissions: frozenset[str]
    is_superadmin: bool = False
    session_id: uuid.UUID | None = None
    group_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    credential: Literal["session", "token"] = "session"
    client_id: str | None = None
    """The OAuth client acting for the user with an app token (credential "token"); None when the user acts."""
    grants: frozenset[str] = field(default_factory=frozenset)
    """An app token's scopes that are not permission codes (`data:write:posts`, `blob:read:profile`): what the app
    may reach in the app data store. Empty for everything else."""

    def can(self, permission: str) -> bool:
        """Whether this principal holds `permission` (super-admins hold every one)."""
        return self.is_superadmin or permission in self.permissions
