"""The signed identity assertion a service receives in `X-Nubes-Assertion`, never a bare identity header.

A JWT signed with Nubes' keys (EdDSA, `kid` in the header; verify it with GET /api/auth/jwks.json), valid
`TTL_S` seconds. Claims:

- `iss`: NUBES_PUBLIC_URL, or `nubes` when none is set; `aud`: the service's slug (a service accepts only its own);
- `sub`: the user's id, `tid`: the tenant's id, `preferred_username`, `groups`: the names of the user's groups;
- `scopes`: the permission codes the caller holds (for an app or personal access token, only what its scopes
  allow) and an app token's grants (`data:write:posts`); `superadmin: true` for platform administrators;
  `azp`: the OAuth client acting for the user, when one is;
- `iat`, `nbf`, `exp`, `jti`.

One caller's assertion for one service is reused until `RENEW_AFTER_S` seconds before it expires, so most
proxied requests sign nothing.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.principal import Principal
from nubes.identity.groups import service as groups_service
from nubes.identity.sessions.tokens import KeyRing

TTL_S = 60
RENEW_AFTER_S = 40
"""An assertion is signed again once it is this old: a service always gets one valid for 20 s more at least."""
SIZE = 10_000
"""Most (caller, service) assertions kept; the least recently used goes first."""
DEFAULT_ISSUER = "nubes"


def issuer(settings: Settings) -> str:
    """The assertions' `iss`: the install's public URL, or `nubes` when none is configured."""
    return settings.public_url or DEFAULT_ISSUER


def claims_of(principal: Principal, *, audience: str, issuer: str, groups: list[str]) -> dict[str, Any]:
    """What an assertion says about `principal` to the service `audience` (times and id are added when signing)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": str(principal.user_id),
        "tid": str(principal.tenant_id),
        "preferred_username": principal.username,
        "groups": sorted(groups),
        "scopes": sorted(principal.permissions | principal.grants),
    }
    if principal.is_superadmin:
        claims["superadmin"] = True
    if principal.client_id is not None:
        claims["azp"] = principal.client_id
    return claims


@dataclass(frozen=True, slots=True)
class _Signed:
    token: str
    renew_at: float  # time.monotonic()


class Assertions:
    """Signed assertions by (caller, service), bounded in number, each reused for most of its lifetime.

    The caller is the whole `Principal`: a change of its groups or permissions is another key, so a new assertion.
    """

    def __init__(self, keyring: KeyRing, settings: Settings, *, size: int = SIZE) -> None:
        self._keyring = keyring
        self._issuer = issuer(settings)
        self._size = size
        self._signed: OrderedDict[tuple[Principal, str], _Signed] = OrderedDict()

    async def assertion(self, session: AsyncSession, *, principal: Principal, audience: str) -> str:
        """The caller's assertion for the service `audience`: the one kept, or a new one signed now."""
        key = (principal, audience)
        kept = self._signed.get(key)
        if kept is not None and time.monotonic() < kept.renew_at:
            self._signed.move_to_end(key)
            return kept.token
        groups = [group.name for group in await groups_service.my_groups(session=session, principal=principal)]
        claims = claims_of(principal, audience=audience, issuer=self._issuer, groups=groups)
        token = await self._keyring.sign(session, claims=claims, ttl=TTL_S)
        self._signed[key] = _Signed(token, time.monotonic() + RENEW_AFTER_S)
        self._signed.move_to_end(key)
        while len(self._signed) > self._size:
            self._signed.popitem(last=False)
        return token
