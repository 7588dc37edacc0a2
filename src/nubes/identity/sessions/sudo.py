"""Sudo mode: a signed-in user proves it is them again (password, second factor or passkey) before changing credentials."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
)
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import (
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)

from nubes.config import Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import Forbidden
from nubes.core.principal import Principal
from nubes.identity.mfa.models import Passkey
from nubes.identity.mfa.service import (
    RelyingParty,
    assertion_checks_out,
    claim_challenge,
    has_second_factor,
    new_challenge,
    passkey_of,
    transports,
    use_second_factor,
)
from nubes.identity.sessions.models import Session
from nubes.identity.sessions.schemas import SudoRequest
from nubes.identity.sessions.service import get_me
from nubes.identity.users import passwords


class ReauthenticationFailed(Forbidden):
    """The password, passkey or code given to confirm a sensitive change was not right."""

    code, title = "reauthentication-failed", "Not confirmed"


async def reauthentication_methods(*, session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    """How this user can confirm it's them: always the password, a passkey when they have one, a code with TOTP."""
    methods = ["password"]
    if await session.scalar(select(Passkey.id).where(Passkey.user_id == user_id).limit(1)):
        methods.append("passkey")
    if await has_second_factor(session=session, user_id=user_id):
        methods.append("totp")
    return methods


async def sudo_passkey_options(*, session: AsyncSession, principal: Principal, rp: RelyingParty) -> tuple[str, dict[str, Any]]:
    """Options for `navigator.credentials.get` limited to the signed-in user's passkeys."""
    user = await get_me(session, principal)
    keys = await session.scalars(select(Passkey).where(Passkey.user_id == user.id))
    token, challenge = await new_challenge(session, purpose="passkey_sudo", user_id=user.id)
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=key.credential_id, transports=transports(key.transports)) for key in keys
        ],
    )
    return token, options_to_json_dict(options)


async def reauthenticate(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    rp: RelyingParty,
    proof: SudoRequest,
    origin: Origin,
) -> datetime:
    """Check the password, passkey assertion or authenticator code and mark the session as recently proved.

    Returns until when credential changes are allowed in this session.
    """
    user = await get_me(session, principal)
    device = await session.get(Session, principal.session_id) if principal.session_id else None
    if device is None or principal.credential != "session":
        raise Forbidden("Only a signed-in session can be confirmed; sign in to Nubes.")
    method = "password" if proof.password is not None else "passkey" if proof.passkey is not None else "code"
    if proof.password is not None:
        ok = await passwords.verify_password(settings, user.password_hash, proof.password)
    elif proof.passkey is not None:
        challenge = await claim_challenge(session, token=proof.passkey.token, purpose="passkey_sudo", user_id=user.id)
        passkey = await passkey_of(session, proof.passkey.credential)
        mine = passkey is not None and passkey.user_id == user.id
        ok = mine and passkey is not None and assertion_checks_out(rp, challenge, passkey, proof.passkey.credential)
    else:
        ok = await use_second_factor(session, settings, user.id, proof.code or "") is not None
    if not ok:
        await audit.record(
            session=session, action="auth.sudo", origin=origin, principal=principal, outcome="failure", detail={"method": method}
        )
        raise ReauthenticationFailed("That did not confirm it's you; check your password and try again.", keep_changes=True)
    now = utcnow()
    device.reauthenticated_at = now
    await session.flush()
    await audit.record(session=session, action="auth.sudo", origin=origin, principal=principal, detail={"method": method})
    return now + timedelta(seconds=settings.sudo_ttl)
