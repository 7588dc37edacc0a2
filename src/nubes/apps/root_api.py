"""Routes of the apps domain mounted at the root: the gateway (`/apps/{service}/...`) and the OAuth2/OIDC
provider's endpoints (`/oauth/...`, `/.well-known/openid-configuration`), whose clients expect their own paths."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.apps.gateway import api as gateway_api
from nubes.apps.oauth import protocol as oauth_protocol

routers: list[APIRouter] = [oauth_protocol.router, gateway_api.router]
