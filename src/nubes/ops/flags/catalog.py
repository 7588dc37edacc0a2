"""Every feature flag, declared in code, and every settings group of the admin's Settings area.

A flag exists only here: the database keeps the values admins chose (per install, per tenant), never the list. New
features start off (`default=False`); an install-scope flag is set by platform administrators only, a tenant-scope
flag also by each tenant's admins (their value wins over the install's). The README's table is made from `FLAGS`
(tests/ops/flags/test_catalog.py fails when they differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nubes.core.errors import NotFound

Scope = Literal["install", "tenant"]


@dataclass(frozen=True, slots=True)
class Flag:
    """A feature flag: what it turns on, who may set it, since which version, and its value when nobody set it."""

    key: str
    title: str
    description: str
    scope: Scope
    since: str
    default: bool = False


FLAGS: tuple[Flag, ...] = (
    Flag(
        key="search.ocr_files",
        title="Read scans and images of plain files for search",
        description=(
            "The search index reads the text of images and of PDF pages without a text layer among plain files "
            "(documents are always read) with OCR, so a photographed receipt is found by its words. Costs CPU time "
            "on every new or changed image."
        ),
        scope="tenant",
        since="0.1.0",
    ),
    Flag(
        key="files.dav_infinity",
        title="WebDAV: list a whole folder tree in one request",
        description=(
            "A PROPFIND with Depth: infinity answers the folder and everything below it (at most 10,000 entries) "
            "instead of refusing it; some sync clients start faster, but one request may read a large tree."
        ),
        scope="install",
        since="0.1.0",
    ),
)
"""Every flag, in the order the Settings page lists them."""

CATALOG: dict[str, Flag] = {flag.key: flag for flag in FLAGS}


class UnknownFlag(NotFound):
    """No flag has this key."""

    code = "unknown_flag"
    title = "Unknown feature flag"


def get_or_raise(key: str) -> Flag:
    """The flag called `key` (404 for a key the catalog does not list)."""
    flag = CATALOG.get(key)
    if flag is None:
        raise UnknownFlag(f"There is no feature flag {key[:100]!r}; GET /api/ops/flags lists them.")
    return flag


@dataclass(frozen=True, slots=True)
class SettingsGroup:
    """One group of settings in the admin console: where its page is and who may change it."""

    key: str
    title: str
    description: str
    scope: Scope
    page: str
    permission: str
    """The permission code needed to open the page (`superadmin` for platform administrators only)."""


GROUPS: tuple[SettingsGroup, ...] = (
    SettingsGroup(
        "flags", "Feature flags", "New features, off until an admin turns them on.", "tenant", "/admin/settings/flags",
        "admin.settings",
    ),
    SettingsGroup(
        "links", "Public links", "Who may make public links, their longest lifetime, passwords and uploads.", "tenant",
        "/admin/links", "admin.settings",
    ),
    SettingsGroup(
        "files", "Files", "How many earlier versions of a file are kept, and for how long; the tenant's quota.",
        "tenant", "/admin/files", "tenant.manage",
    ),
    SettingsGroup(
        "documents", "Documents", "Upload limits and the OCR languages of documents.", "tenant", "/documents/manage",
        "documents.manage",
    ),
    SettingsGroup(
        "assistant", "AI assistant", "The provider that suggests types, correspondents and tags for documents.",
        "tenant", "/documents/manage", "ai.manage",
    ),
    SettingsGroup(
        "services", "Apps and services", "Registered services, who may use them and their per-organization settings.",
        "tenant", "/admin/services", "apps.manage",
    ),
    SettingsGroup(
        "registration", "Registration", "Whether people may sign up by themselves, and from which e-mail domains.",
        "install", "/admin/registration", "superadmin",
    ),
    SettingsGroup(
        "sign-in-providers", "Sign-in providers", "External OpenID Connect providers people may sign in with.",
        "install", "/admin/sign-in-providers", "superadmin",
    ),
    SettingsGroup(
        "backups", "Backups", "Where the install is backed up, how often, and how many restore points are kept.",
        "install", "/admin/backups", "superadmin",
    ),
)  # fmt: skip
"""Every settings group; the Settings page shows those the caller may open."""

PLATFORM_PAGES: dict[str, str] = {"identity.registration": "/admin/registration"}
"""Where each known platform setting (a `system_settings` key) is changed."""
