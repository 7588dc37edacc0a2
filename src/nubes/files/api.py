"""Routes of the files domain: every sub-package's router, in the order the app mounts them."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.files.links import api as links_api
from nubes.files.locks import api as locks_api
from nubes.files.nextcloud import api as nextcloud_api
from nubes.files.quota import api as quota_api
from nubes.files.sharing import api as sharing_api
from nubes.files.thumbnails import api as thumbnails_api
from nubes.files.tree import api as tree_api
from nubes.files.uploads import api as uploads_api
from nubes.files.versions import api as versions_api

routers: list[APIRouter] = [
    tree_api.router,
    locks_api.router,
    nextcloud_api.router,
    thumbnails_api.router,
    versions_api.router,
    quota_api.router,
    sharing_api.router,
    links_api.router,
    uploads_api.router,
]
