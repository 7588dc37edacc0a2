"""The scopes an app may ask for, in one table: OpenID Connect's, one per permission code (`files.read` is
`files:read`), and the app data store's per collection (`data:write:posts`); what each means in plain words, and
what a token holding them carries.

A token stores its permission codes (narrowed to what its user holds, at issue and at every use) and its other
scopes (`openid`, `data:write:posts`, ...): those reach services as `Principal.grants`. A data-store scope brings the
code `apps.use`, which the data store's routes require.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nubes.identity.roles.catalog import CATALOG

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"
OIDC_SCOPES: dict[str, str] = {
    OPENID: "Sign you in with your Nubes account",
    "profile": "See your username and display name",
    "email": "See your email address",
    OFFLINE_ACCESS: "Stay connected when you are away (until you revoke it)",
}
PERMISSION_SCOPES: dict[str, str] = {permission.code.replace(".", ":"): permission.code for permission in CATALOG}
"""Scope → permission code, for every code of every domain."""
_PERMISSION_TEXT = {permission.code: permission.description for permission in CATALOG}

COLLECTION = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_DATA_SCOPE = re.compile(r"^(data|blob):(read|write):([a-z][a-z0-9_-]{0,62})$")
_DATA_TEXT = {
    ("data", "read"): "Read your “{}” data in this app",
    ("data", "write"): "Read and change your “{}” data in this app",
    ("blob", "read"): "Read your “{}” attachments in this app",
    ("blob", "write"): "Read and change your “{}” attachments in this app",
}
DATA_STORE_CODE = "apps.use"
MAX_SCOPES = 50
MAX_SCOPE_LENGTH = 100


def is_known(scope: str) -> bool:
    """Whether `scope` is one Nubes understands."""
    return scope in OIDC_SCOPES or scope in PERMISSION_SCOPES or _DATA_SCOPE.fullmatch(scope) is not None


def parse(text: str | None) -> list[str] | None:
    """The scopes of a space-separated `scope` parameter (sorted, no duplicates), or None when one is unknown."""
    words = sorted(set((text or "").split()))
    if len(words) > MAX_SCOPES or not all(len(word) <= MAX_SCOPE_LENGTH and is_known(word) for word in words):
        return None
    return words


def describe(scope: str) -> str:
    """What `scope` lets an app do, in plain words (for the consent screen and the account page)."""
    if scope in OIDC_SCOPES:
        return OIDC_SCOPES[scope]
    if scope in PERMISSION_SCOPES:
        return _PERMISSION_TEXT[PERMISSION_SCOPES[scope]]
    match = _DATA_SCOPE.fullmatch(scope)
    if match is None:
        return scope
    kind, access, collection = match.groups()
    return _DATA_TEXT[kind, access].format(collection)


def reading_order(scope: str) -> tuple[int, int, str]:
    """A sort key: OpenID Connect's scopes first (in their table's order), then permissions, then the data store's."""
    if scope in OIDC_SCOPES:
        return 0, list(OIDC_SCOPES).index(scope), scope
    return (1 if scope in PERMISSION_SCOPES else 2), 0, scope


def codes_of(scopes: Iterable[str]) -> frozenset[str]:
    """The permission codes `scopes` ask for (a data-store scope asks for `apps.use`)."""
    codes = set()
    for scope in scopes:
        if scope in PERMISSION_SCOPES:
            codes.add(PERMISSION_SCOPES[scope])
        elif _DATA_SCOPE.fullmatch(scope):
            codes.add(DATA_STORE_CODE)
    return frozenset(codes)


def narrowed(scopes: Iterable[str], held: frozenset[str], *, superadmin: bool = False) -> list[str]:
    """`scopes` without the permission scopes whose code the user does not hold (a data-store scope stays only if the
    user holds `apps.use`): an app never gets more than its user."""

    def keeps(scope: str) -> bool:
        codes = codes_of([scope])
        return superadmin or codes <= held

    return sorted(scope for scope in set(scopes) if keeps(scope))


def token_scopes(scopes: Iterable[str]) -> list[str]:
    """What an app token stores: the permission codes, and every scope that is not a permission scope."""
    kept = list(scopes)
    others = {scope for scope in kept if scope not in PERMISSION_SCOPES}
    return sorted(codes_of(kept) | others)


def scope_text(stored: Iterable[str]) -> str:
    """The `scope` string of a stored token (codes back to scopes), as introspection and the token endpoint say it."""
    return " ".join(sorted({scope.replace(".", ":") for scope in stored}))
