"""The second factor: TOTP and recovery codes, the sign-in's second step, and passkeys (WebAuthn).

Every one-time secret here (sign-in step, WebAuthn challenge, recovery code) is stored hashed and consumed by one
conditional UPDATE, so it works exactly once even under concurrent use."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import segno
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from nubes.config import Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.crypto import SealError, equal, seal, unseal
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, Forbidden, NotFound, Unauthorized, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.identity.mfa.models import LoginChallenge, Passkey, RecoveryCode, TotpSecret
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.service import audit_self, get_me, rowcount
from nubes.identity.sessions.tokens import hash_token
from nubes.identity.users import passwords
from nubes.identity.users.models import User

MFA_TTL = timedelta(minutes=5)
MFA_ATTEMPTS = 5
WEBAUTHN_TTL = timedelta(minutes=5)
RECOVERY_CODES = 10
TOTP_ISSUER = "Nubes"
_TOTP_PURPOSE = "totp-secret"


@dataclass(frozen=True, slots=True)
class TotpEnrollment:
    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


async def _totp(session: AsyncSession, user_id: uuid.UUID) -> TotpSecret | None:
    return await session.get(TotpSecret, user_id)


async def has_second_factor(*, session: AsyncSession, user_id: uuid.UUID) -> bool:
    totp = await _totp(session, user_id)
    return totp is not None and totp.confirmed_at is not None


async def totp_status(*, session: AsyncSession, principal: Principal) -> tuple[bool, int]:
    """Whether TOTP is on, and how many recovery codes are left."""
    enabled = await has_second_factor(session=session, user_id=principal.user_id)
    left = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == principal.user_id, RecoveryCode.used_at.is_(None))
    )
    return enabled, int(left or 0)


async def begin_totp(*, session: AsyncSession, settings: Settings, principal: Principal) -> TotpEnrollment:
    """A fresh secret to scan; it takes effect once a code from the app confirms it."""
    existing = await _totp(session, principal.user_id)
    if existing is not None and existing.confirmed_at is not None:
        raise Conflict("Two-factor sign-in is already on; turn it off first to move to another authenticator.")
    user = await get_me(session, principal)
    secret = pyotp.random_base32()
    sealed = seal(settings.secret_key, _TOTP_PURPOSE, secret)
    if existing is None:
        session.add(TotpSecret(user_id=user.id, tenant_id=user.tenant_id, secret=sealed))
    else:
        existing.secret, existing.created_at, existing.last_step = sealed, utcnow(), 0
    await session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email or user.username, issuer_name=TOTP_ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return TotpEnrollment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=qr)


def _matching_step(settings: Settings, stored: TotpSecret, code: str) -> int | None:
    """The 30-second step `code` belongs to (this one or a neighbour, for clock drift), or None."""
    try:
        totp = pyotp.TOTP(unseal(settings.secret_key, _TOTP_PURPOSE, stored.secret))
    except SealError:
        return None
    now = time.time()
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if equal(totp.at(at), code):
            return int(at // totp.interval)
    return None


async def _use_totp(session: AsyncSession, settings: Settings, stored: TotpSecret, code: str) -> bool:
    """True when `code` is valid and not used before (a code works once, even inside its 30 seconds)."""
    step = _matching_step(settings, stored, code)
    if step is None:
        return False
    result = await session.execute(
        update(TotpSecret)
        .where(TotpSecret.user_id == stored.user_id, TotpSecret.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def _new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2)) for _ in range(RECOVERY_CODES)]


def _normal_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


async def _replace_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = _new_recovery_codes()
    session.add_all(RecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=hash_token(_normal_code(c))) for c in codes)
    await session.flush()
    return codes


async def confirm_totp(
    *, session: AsyncSession, settings: Settings, principal: Principal, code: str, origin: Origin
) -> list[str]:
    """Turn TOTP on with a first code from the app; returns the recovery codes (shown once)."""
    stored = await _totp(session, principal.user_id)
    if stored is None:
        raise Conflict("Start the set-up first (POST /api/users/me/totp), then confirm with a code from the app.")
    if stored.confirmed_at is not None:
        raise Conflict("Two-factor sign-in is already on.")
    if not await _use_totp(session, settings, stored, code.strip()):
        raise UnprocessableEntity("That code is not right; check the time on your phone and try the current code.")
    stored.confirmed_at = utcnow()
    user = await get_me(session, principal)
    codes = await _replace_recovery_codes(session, user)
    await audit.record(
        session=session, action="user.mfa_enabled", origin=origin, principal=principal, target_type="user", target_id=user.id
    )
    return codes


async def _check_password(session: AsyncSession, settings: Settings, principal: Principal, password: str) -> User:
    user = await get_me(session, principal)
    if not await passwords.verify_password(settings, user.password_hash, password):
        raise Forbidden("Your password is not right; this change needs your current password.")
    return user


async def disable_totp(*, session: AsyncSession, settings: Settings, principal: Principal, password: str, origin: Origin) -> None:
    user = await _check_password(session, settings, principal, password)
    stored = await _totp(session, user.id)
    if stored is None:
        raise Conflict("Two-factor sign-in is not on.")
    await session.delete(stored)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await audit.record(
        session=session, action="user.mfa_disabled", origin=origin, principal=principal, target_type="user", target_id=user.id
    )


async def regenerate_recovery_codes(
    *, session: AsyncSession, settings: Settings, principal: Principal, password: str, origin: Origin
) -> list[str]:
    user = await _check_password(session, settings, principal, password)
    if not await has_second_factor(session=session, user_id=user.id):
        raise Conflict("Turn on two-factor sign-in first; recovery codes come with it.")
    codes = await _replace_recovery_codes(session, user)
    await audit.record(
        session=session, action="user.recovery_codes", origin=origin, principal=principal, target_type="user", target_id=user.id
    )
    return codes


async def use_second_factor(session: AsyncSession, settings: Settings, user_id: uuid.UUID, code: str) -> str | None:
    """Which factor `code` satisfied (`totp` or `recovery_code`), using it up; None when it is wrong."""
    code = code.strip()
    stored = await _totp(session, user_id)
    if stored is None or stored.confirmed_at is None:
        return None
    if code.isdigit() and len(code) == 6:
        return "totp" if await _use_totp(session, settings, stored, code) else None
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == hash_token(_normal_code(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return "recovery_code" if rowcount(result) == 1 else None


async def start_mfa(*, session: AsyncSession, user: User) -> str:
    """After a right password: the token of the pending second step (the session starts after it)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginChallenge(purpose="mfa", user_id=user.id, token_hash=hash_token(token), expires_at=utcnow() + MFA_TTL))
    await session.flush()
    return token


async def finish_mfa(*, session: AsyncSession, settings: Settings, token: str, code: str, origin: Origin) -> User:
    """The user of a pending sign-in whose second factor `code` is right; wrong codes count against the step."""
    now = utcnow()
    pending = await session.scalar(
        select(LoginChallenge).where(LoginChallenge.token_hash == hash_token(token), LoginChallenge.purpose == "mfa")
    )
    if pending is None or pending.used_at is not None or pending.expires_at <= now or pending.attempts >= MFA_ATTEMPTS:
        raise Unauthorized("This sign-in step has expired; sign in again with your password.")
    user = await session.get(User, pending.user_id) if pending.user_id else None
    if user is None:
        raise Unauthorized("This sign-in step has expired; sign in again with your password.")
    factor = await use_second_factor(session, settings, user.id, code)
    if factor is None:
        pending.attempts += 1
        await audit.record(
            session=session,
            action="auth.mfa",
            origin=origin,
            tenant_id=user.tenant_id,
            actor_id=user.id,
            actor_name=user.username,
            outcome="failure",
        )
        left = MFA_ATTEMPTS - pending.attempts
        hint = f"{left} attempts left" if left else "sign in again with your password"
        raise Unauthorized(f"That code is not right ({hint}).", keep_changes=True)
    result = await session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == pending.id, LoginChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise Unauthorized("This sign-in step was already used; sign in again.")
    await sessions_service.check_can_sign_in(session=session, user=user, origin=origin)
    await audit_self(session, "auth.mfa", origin, user, detail={"factor": factor})
    return user


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who the passkeys belong to: the host name (RP ID) and the exact origin the browser must report."""

    id: str
    origin: str
    name: str = "Nubes"


async def new_challenge(session: AsyncSession, *, purpose: str, user_id: uuid.UUID | None) -> tuple[str, bytes]:
    """A fresh WebAuthn challenge for `purpose`: the token that names it and the challenge bytes."""
    token = secrets.token_urlsafe(32)
    challenge = secrets.token_bytes(32)
    session.add(
        LoginChallenge(
            purpose=purpose,
            user_id=user_id,
            token_hash=hash_token(token),
            challenge=challenge,
            expires_at=utcnow() + WEBAUTHN_TTL,
        )
    )
    await session.flush()
    return token, challenge


async def claim_challenge(session: AsyncSession, *, token: str, purpose: str, user_id: uuid.UUID | None) -> bytes:
    """Use up the challenge behind `token` (once, for `purpose` and `user_id`) and return its bytes, or 401."""
    now = utcnow()
    stored = await session.scalar(select(LoginChallenge).where(LoginChallenge.token_hash == hash_token(token)))
    if stored is None or stored.purpose != purpose or stored.user_id != user_id or stored.expires_at <= now:
        raise UnprocessableEntity("This passkey request has expired; start again.")
    result = await session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == stored.id, LoginChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise UnprocessableEntity("This passkey request was already used; start again.")
    return stored.challenge


def transports(values: list[str]) -> list[AuthenticatorTransport]:
    """The stored transport names that WebAuthn knows, as its enum."""
    known = {transport.value for transport in AuthenticatorTransport}
    return [AuthenticatorTransport(value) for value in values if value in known]


async def passkey_registration_options(
    *, session: AsyncSession, principal: Principal, rp: RelyingParty
) -> tuple[str, dict[str, Any]]:
    """Options for `navigator.credentials.create`, and the token that ties the answer to them."""
    user = await get_me(session, principal)
    existing = await session.scalars(select(Passkey).where(Passkey.user_id == user.id))
    token, challenge = await new_challenge(session, purpose="passkey_register", user_id=user.id)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user.id.bytes,
        user_name=user.username,
        user_display_name=user.display_name or user.username,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=key.credential_id, transports=transports(key.transports)) for key in existing
        ],
    )
    return token, options_to_json_dict(options)


async def register_passkey(
    *,
    session: AsyncSession,
    principal: Principal,
    rp: RelyingParty,
    token: str,
    name: str,
    credential: dict[str, Any],
    origin: Origin,
) -> Passkey:
    """Store the passkey the browser created, once its attestation checks out."""
    challenge = await claim_challenge(session, token=token, purpose="passkey_register", user_id=principal.user_id)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:  # any malformed answer (no id, bad CBOR...)
        raise UnprocessableEntity(f"The browser's answer did not check out ({exc}); try again.") from None
    if await session.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)):
        raise Conflict("This passkey is already registered.")
    response = credential.get("response")
    transports = response.get("transports", []) if isinstance(response, dict) else []
    passkey = Passkey(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports if isinstance(t, str)][:8],
        name=name,
        aaguid=verified.aaguid,
    )
    session.add(passkey)
    await session.flush()
    await audit.record(
        session=session,
        action="user.passkey_add",
        origin=origin,
        principal=principal,
        target_type="passkey",
        target_id=passkey.id,
        detail={"name": name},
    )
    return passkey


async def passkey_of(session: AsyncSession, credential: dict[str, Any]) -> Passkey | None:
    """The passkey a WebAuthn credential names, if one is registered."""
    raw_id = credential.get("rawId") or credential.get("id")
    try:
        credential_id = base64url_to_bytes(raw_id) if isinstance(raw_id, str) else b""
    except ValueError:
        credential_id = b""
    return await session.scalar(select(Passkey).where(Passkey.credential_id == credential_id)) if credential_id else None


def assertion_checks_out(rp: RelyingParty, challenge: bytes, passkey: Passkey, credential: dict[str, Any]) -> bool:
    """Whether `passkey` signed `challenge` with user verification; counts the use when it did."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return False
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    return True


async def passkey_login_options(*, session: AsyncSession, rp: RelyingParty) -> tuple[str, dict[str, Any]]:
    """Options for `navigator.credentials.get` with any of the user's passkeys (discoverable credentials)."""
    token, challenge = await new_challenge(session, purpose="passkey_login", user_id=None)
    options = generate_authentication_options(
        rp_id=rp.id, challenge=challenge, user_verification=UserVerificationRequirement.REQUIRED
    )
    return token, options_to_json_dict(options)


async def passkey_login(
    *, session: AsyncSession, rp: RelyingParty, token: str, credential: dict[str, Any], origin: Origin
) -> User:
    """The user whose passkey signed the challenge (user verification counts as the second factor)."""
    challenge = await claim_challenge(session, token=token, purpose="passkey_login", user_id=None)
    passkey = await passkey_of(session, credential)
    if passkey is None:
        await audit.record(session=session, action="auth.passkey", origin=origin, outcome="failure", detail={"reason": "unknown"})
        raise Unauthorized("This passkey is not registered here; sign in with your password.", keep_changes=True)
    if not assertion_checks_out(rp, challenge, passkey, credential):
        await audit.record(
            session=session,
            action="auth.passkey",
            origin=origin,
            tenant_id=passkey.tenant_id,
            actor_id=passkey.user_id,
            outcome="failure",
            detail={"reason": "bad_signature"},
        )
        raise Unauthorized("The passkey's answer did not check out; try again.", keep_changes=True)
    user = await session.get(User, passkey.user_id)
    if user is None:
        raise Unauthorized("This passkey's account no longer exists.")
    await sessions_service.check_can_sign_in(session=session, user=user, origin=origin)
    return user


async def list_passkeys(*, session: AsyncSession, principal: Principal) -> list[Passkey]:
    rows = await session.scalars(select(Passkey).where(Passkey.user_id == principal.user_id).order_by(Passkey.created_at))
    return list(rows)


async def _my_passkey(session: AsyncSession, principal: Principal, passkey_id: uuid.UUID) -> Passkey:
    passkey = await session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != principal.user_id:
        raise NotFound("No such passkey.")
    return passkey


async def rename_passkey(*, session: AsyncSession, principal: Principal, passkey_id: uuid.UUID, name: str) -> Passkey:
    passkey = await _my_passkey(session, principal, passkey_id)
    passkey.name = name
    await session.flush()
    return passkey


async def delete_passkey(*, session: AsyncSession, principal: Principal, passkey_id: uuid.UUID, origin: Origin) -> None:
    passkey = await _my_passkey(session, principal, passkey_id)
    await session.delete(passkey)
    await audit.record(
        session=session,
        action="user.passkey_remove",
        origin=origin,
        principal=principal,
        target_type="passkey",
        target_id=passkey.id,
        detail={"name": passkey.name},
    )


def credential_id_text(passkey: Passkey) -> str:
    return bytes_to_base64url(passkey.credential_id)
