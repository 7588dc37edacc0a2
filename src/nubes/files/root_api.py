"""The files domain's routes at the root, outside /api: WebDAV, public links over WebDAV and the Nextcloud clients'
own paths."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.files.dav import api as dav_api
from nubes.files.dav import public as dav_public
from nubes.files.nextcloud import api as nextcloud_api

routers: list[APIRouter] = [*nextcloud_api.root_routers, *dav_api.routers, *dav_public.routers]
