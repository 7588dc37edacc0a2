"""Routes of the apps domain under /api: every sub-package's router, in the order the app mounts them."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.apps.data import api as data_api
from nubes.apps.oauth import api as oauth_api
from nubes.apps.registry import api as registry_api

routers: list[APIRouter] = [registry_api.router, oauth_api.router, data_api.router]
