"""A stand-in identity provider and InventoryPro-style partner, run in a subprocess by the federation tests.

It is the only stand-in of these tests: the real IdP test signs in through a second `nubes serve`. This one exists to
misbehave on purpose (a tampered ID token, a wrong nonce or issuer) and to play the partner app of seed 000 that
hands out one-time tickets. `POST /control` sets the claims and the misbehaviour of the next sign-in.

    python -m tests.identity.federation.fake_partner <port>
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys
import time
from typing import Any

import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "nubes-rp"
CLIENT_SECRET = "partner-secret-for-tests"
KEY = ECKey.generate_key("P-256", parameters={"kid": "fake-1", "use": "sig", "alg": "ES256"})
OTHER_KEY = ECKey.generate_key("P-256", parameters={"kid": "fake-1", "use": "sig", "alg": "ES256"})

control: dict[str, Any] = {"claims": {"sub": "subject-1", "preferred_username": "ada"}, "mode": ""}
codes: dict[str, dict[str, Any]] = {}
tickets: dict[str, dict[str, Any]] = {}


def _issuer(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def discovery(request: Request) -> Response:
    issuer = _issuer(request)
    return JSONResponse(
        {
            "issuer": "https://elsewhere.example" if control["mode"] == "discovery_issuer" else issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }
    )


async def jwks(request: Request) -> Response:
    return JSONResponse({"keys": [KEY.as_dict(private=False)]})


async def authorize(request: Request) -> Response:
    query = request.query_params
    code = secrets.token_urlsafe(16)
    codes[code] = {
        "nonce": query.get("nonce"),
        "challenge": query.get("code_challenge"),
        "method": query.get("code_challenge_method"),
        "redirect_uri": query.get("redirect_uri"),
    }
    return RedirectResponse(f"{query['redirect_uri']}?code={code}&state={query['state']}", status_code=302)


def _client_ok(request: Request) -> bool:
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    return request.headers.get("authorization") == f"Basic {expected}"


async def token(request: Request) -> Response:
    form = await request.form()
    pending = codes.pop(str(form.get("code")), None)
    if not _client_ok(request) or pending is None:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    verifier = str(form.get("code_verifier", ""))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    if pending["method"] != "S256" or challenge != pending["challenge"] or form.get("redirect_uri") != pending["redirect_uri"]:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    mode = control["mode"]
    now = int(time.time())
    claims = {
        "iss": "https://evil.example" if mode == "wrong_issuer" else _issuer(request),
        "aud": "someone-else" if mode == "wrong_audience" else CLIENT_ID,
        "iat": now,
        "exp": now - 600 if mode == "expired" else now + 300,
        "nonce": "not-the-nonce" if mode == "wrong_nonce" else pending["nonce"],
        **control["claims"],
    }
    signed = jwt.encode({"alg": "ES256", "kid": "fake-1"}, claims, OTHER_KEY if mode == "wrong_key" else KEY)
    if mode == "tampered":
        header, payload, signature = signed.split(".")
        forged = (
            base64.urlsafe_b64encode(base64.urlsafe_b64decode(payload + "==").replace(b'"ada"', b'"eve"')).decode().rstrip("=")
        )
        signed = f"{header}.{forged}.{signature}"
    return JSONResponse({"access_token": "opaque", "token_type": "Bearer", "id_token": signed, "expires_in": 300})


async def set_control(request: Request) -> Response:
    body = await request.json()
    control.update(body)
    return JSONResponse(control)


async def issue_ticket(request: Request) -> Response:
    ticket = secrets.token_urlsafe(24)
    tickets[ticket] = await request.json()
    return JSONResponse({"ticket": ticket})


async def exchange_ticket(request: Request) -> Response:
    body = await request.json()
    claims = tickets.pop(str(body.get("ticket")), None)  # single use, as the partner promises
    if not _client_ok(request) or claims is None:
        return JSONResponse({"error": "invalid_ticket"}, status_code=400)
    return JSONResponse(claims)


app = Starlette(
    routes=[
        Route("/.well-known/openid-configuration", discovery),
        Route("/jwks", jwks),
        Route("/authorize", authorize),
        Route("/token", token, methods=["POST"]),
        Route("/control", set_control, methods=["POST"]),
        Route("/tickets", issue_ticket, methods=["POST"]),
        Route("/tickets/exchange", exchange_ticket, methods=["POST"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
