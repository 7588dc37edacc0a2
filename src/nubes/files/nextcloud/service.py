"""What Nextcloud's clients ask before they sync: the server's status, its OCS capabilities, who the user is, and
Login Flow v2 (the browser grants the client an app password).

The app password a flow grants is a Nubes app password like any other (`identity.sessions.service`): listed on the
account page with the client's name, revoked there. Only hashes of a flow's tokens are stored; the granted password
waits sealed with the server key until the client collects it, once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import delete, select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import crypto
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import Forbidden, NotFound
from nubes.core.principal import Principal
from nubes.files.nextcloud.models import LoginFlow
from nubes.files.quota import service as quota
from nubes.identity.sessions import service as sessions
from nubes.identity.sessions.schemas import APP_PASSWORD_SCOPES, AppPasswordCreate
from nubes.identity.sessions.tokens import hash_token

# The Nextcloud release the answers claim: recent enough for every current client (they warn below 26).
VERSION = (28, 0, 4, 1)
VERSION_STRING = "28.0.4"
PRODUCT_NAME = "Nubes"
LOGIN_FLOW_TTL = timedelta(minutes=20)
SEAL_PURPOSE = "nubes/nextcloud-login-flow/v1"
CLIENT_NAME_CHARS = 100


def status() -> dict[str, Any]:
    """`/status.php`: what a client checks before anything else (installed, not in maintenance, the version)."""
    return {
        "installed": True,
        "maintenance": False,
        "needsDbUpgrade": False,
        "version": ".".join(str(part) for part in VERSION),
        "versionstring": VERSION_STRING,
        "edition": "",
        "productname": PRODUCT_NAME,
        "extendedSupport": False,
    }


def capabilities() -> dict[str, Any]:
    """The OCS capabilities: WebDAV chunking (the uploads folder), no bulk upload, files' features, SHA256 checksums."""
    major, minor, micro, _ = VERSION
    return {
        "version": {
            "major": major,
            "minor": minor,
            "micro": micro,
            "string": VERSION_STRING,
            "edition": "",
            "extendedSupport": False,
        },
        "capabilities": {
            "core": {"pollinterval": 60, "webdav-root": "remote.php/webdav", "reference-api": False},
            "dav": {"chunking": "1.0"},
            "files": {
                "bigfilechunking": True,
                "undelete": True,
                "versioning": True,
                "blacklisted_files": [".htaccess"],
                "comments": False,
            },
            "checksums": {"supportedTypes": ["SHA256"], "preferredUploadType": "SHA256"},
            "theming": {"name": PRODUCT_NAME, "product-name": PRODUCT_NAME, "url": "", "slogan": ""},
        },
    }


async def user(*, session: AsyncSession, settings: Settings, principal: Principal) -> dict[str, Any]:
    """`cloud/user`: the caller's id, names, e-mail and quota as OCS gives them (quota -3: unlimited)."""
    me = await sessions.get_me(session, principal)
    used, *_ = await quota.usage(session=session, settings=settings, principal=principal)
    free = await quota.available(session=session, settings=settings, principal=principal)
    total = used + free if free is not None else None
    relative = round(used * 100 / total, 2) if total else 0
    return {
        "enabled": True,
        "id": principal.username,
        "display-name": me.display_name or principal.username,
        "displayname": me.display_name or principal.username,
        "email": me.email or "",
        "quota": {
            "free": free if free is not None else -3,
            "used": used,
            "total": total if total is not None else -3,
            "relative": relative,
            "quota": total if total is not None else -3,
        },
        "groups": [],
        "language": "en",
        "locale": "",
        "backend": "Nubes",
    }


# --- OCS envelopes ----------------------------------------------------------------------------------------------


def ocs(data: Any, *, v2: bool, status_code: int = 200, message: str = "OK") -> dict[str, Any]:
    """The OCS envelope: v1 says 100 for success, v2 the HTTP status."""
    ok = status_code < 300
    code = (100 if ok else status_code) if not v2 else status_code
    meta = {"status": "ok" if ok else "failure", "statuscode": code, "message": message}
    return {"ocs": {"meta": meta, "data": data}}


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, dict):
        return "".join(f"<{key}>{_xml_value(item)}</{key}>" for key, item in value.items())
    if isinstance(value, list):
        return "".join(f"<element>{_xml_value(item)}</element>" for item in value)
    return escape(str(value))


def ocs_xml(envelope: dict[str, Any]) -> bytes:
    """An OCS envelope as the XML OCS clients read when they do not ask for JSON."""
    return f'<?xml version="1.0"?>\n{_xml_value(envelope)}\n'.encode()


# --- Login Flow v2 ----------------------------------------------------------------------------------------------


def client_name(user_agent: str) -> str:
    """A name for the client from its User-Agent (Nextcloud's desktop and mobile clients by their marks)."""
    agent = " ".join(user_agent.split())
    lowered = agent.lower()
    if "mirall/" in lowered or "nextcloudcmd" in lowered:
        return "Nextcloud desktop client"
    if "nextcloud-android" in lowered:
        return "Nextcloud Android app"
    if "nextcloud-ios" in lowered:
        return "Nextcloud iOS app"
    return agent[:CLIENT_NAME_CHARS] or "An unnamed client"


@dataclass(frozen=True, slots=True)
class StartedFlow:
    """A new flow's tokens: the poll token goes back to the client only; the login token is in the URL to open."""

    poll_token: str
    login_token: str
    expires_at: datetime


async def start_login_flow(*, session: AsyncSession, user_agent: str) -> StartedFlow:
    """Begin a Login Flow v2 for a client: two fresh random tokens, kept as hashes, valid for 20 minutes."""
    poll_token, login_token = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
    flow = LoginFlow(
        poll_token_hash=hash_token(poll_token),
        login_token_hash=hash_token(login_token),
        client_name=client_name(user_agent),
        expires_at=utcnow() + LOGIN_FLOW_TTL,
    )
    session.add(flow)
    await session.flush()
    return StartedFlow(poll_token=poll_token, login_token=login_token, expires_at=flow.expires_at)


async def get_pending_flow(*, session: AsyncSession, login_token: str) -> LoginFlow:
    """The flow the login URL names while it waits for an answer; 404 when unknown, answered, or expired."""
    flow = await session.scalar(select(LoginFlow).where(LoginFlow.login_token_hash == hash_token(login_token)))
    if flow is None or flow.state != "pending" or flow.expires_at <= utcnow():
        raise NotFound("This sign-in request is unknown, expired or answered already; start again from the client.")
    return flow


async def grant_login_flow(
    *, session: AsyncSession, settings: Settings, principal: Principal, login_token: str, origin: Origin
) -> LoginFlow:
    """The signed-in user grants the client an app password (files read and write, as far as they hold them)."""
    flow = await get_pending_flow(session=session, login_token=login_token)
    scopes = [code for code in APP_PASSWORD_SCOPES if principal.can(code)]
    if not scopes:
        raise Forbidden("You hold none of the file permissions a sync client needs (files.read, files.write).")
    _, password = await sessions.create_app_password(
        session=session,
        principal=principal,
        app_password_in=AppPasswordCreate(name=flow.client_name, scopes=scopes),
        origin=origin,
    )
    answered = await session.execute(
        update_rows(LoginFlow)
        .where(LoginFlow.id == flow.id, LoginFlow.state == "pending")
        .values(
            state="granted",
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            login_name=principal.username,
            password_sealed=crypto.seal(settings.secret_key, SEAL_PURPOSE, password),
        )
        .execution_options(synchronize_session=False)
    )
    if sessions.rowcount(answered) != 1:  # answered meanwhile by another request: the new password must not live
        raise NotFound("This sign-in request was answered meanwhile; start again from the client.")
    return flow


async def deny_login_flow(*, session: AsyncSession, login_token: str) -> None:
    """The user refuses: the client's polls stay 404 until the flow expires."""
    flow = await get_pending_flow(session=session, login_token=login_token)
    await session.execute(
        update_rows(LoginFlow)
        .where(LoginFlow.id == flow.id, LoginFlow.state == "pending")
        .values(state="denied")
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a granted flow gives its client, once."""

    login_name: str
    app_password: str


async def poll_login_flow(*, session: AsyncSession, settings: Settings, poll_token: str) -> Credentials:
    """The credentials of a granted flow, handed out once (the row goes); 404 while pending, denied or expired."""
    flow = await session.scalar(select(LoginFlow).where(LoginFlow.poll_token_hash == hash_token(poll_token)))
    if flow is None or flow.state != "granted" or flow.expires_at <= utcnow() or flow.password_sealed is None:
        raise NotFound("Not granted (yet).")
    taken = await session.execute(delete(LoginFlow).where(LoginFlow.id == flow.id, LoginFlow.state == "granted"))
    if sessions.rowcount(taken) != 1:
        raise NotFound("Not granted (yet).")
    try:
        password = crypto.unseal(settings.secret_key, SEAL_PURPOSE, flow.password_sealed)
    except crypto.SealError:
        raise NotFound("Not granted (yet).") from None
    return Credentials(login_name=flow.login_name, app_password=password)


async def sweep_login_flows(*, session: AsyncSession) -> int:
    """Delete flows past their expiry (a granted password nobody collected stays listed on the account page)."""
    gone = await session.execute(delete(LoginFlow).where(LoginFlow.expires_at <= utcnow()))
    return sessions.rowcount(gone)
