"""Account security: self-registration, mailed one-time links (verify email, reset password), the
second factor (TOTP and recovery codes) and passkeys (WebAuthn).

Every one-time secret here (mailed token, sign-in step, WebAuthn challenge, recovery code) is stored
hashed and consumed by one conditional UPDATE, so it works exactly once even under concurrent use.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import pyotp
import segno
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from nubes.config import Settings
from nubes.core import audit, mail
from nubes.core.audit import Origin
from nubes.core.crypto import SealError, equal, seal, unseal
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, Forbidden, NotFound, Unauthorized, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.identity import passwords, service
from nubes.identity.models import (
    AccountToken,
    LoginChallenge,
    Passkey,
    RecoveryCode,
    Role,
    Session,
    Tenant,
    TotpSecret,
    User,
)
from nubes.identity.schemas import RegistrationSettings, SudoRequest, UserCreate, UserUpdate
from nubes.ops import service as ops

MAIL_TOKEN_TTL = {"verify_email": timedelta(hours=48), "reset_password": timedelta(hours=1)}
MFA_TTL = timedelta(minutes=5)
MFA_ATTEMPTS = 5
WEBAUTHN_TTL = timedelta(minutes=5)
RECOVERY_CODES = 10
TOTP_ISSUER = "Nubes"
_TOTP_PURPOSE = "totp-secret"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def _me(session: AsyncSession, principal: Principal) -> User:
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthorized("Your account no longer exists; sign in again.")
    return user


async def _audit_self(session: AsyncSession, action: str, origin: Origin, user: User, **fields: Any) -> None:
    """An audit row for something a user did to their own account (signed in or not)."""
    await audit.record(
        session=session,
        action=action,
        origin=origin,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        actor_name=user.username,
        **fields,
    )


def _rowcount(result: object) -> int:
    count: int = cast("CursorResult[Any]", result).rowcount
    return count


# --- registration ------------------------------------------------------------------------------------

REGISTRATION_SETTING = "identity.registration"


async def registration_settings(*, session: AsyncSession) -> RegistrationSettings:
    stored = await ops.get_setting(session=session, key=REGISTRATION_SETTING, default={})
    return RegistrationSettings.model_validate(stored or {})


async def set_registration_settings(
    *, session: AsyncSession, principal: Principal, value: RegistrationSettings, origin: Origin
) -> RegistrationSettings:
    """Store the registration policy after checking its tenant and role exist."""
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == value.tenant_slug))
    if tenant is None:
        raise UnprocessableEntity(f"There is no tenant {value.tenant_slug!r}; pick an existing tenant's slug.")
    role = await session.scalar(select(Role.id).where(Role.tenant_id == tenant.id, Role.name == value.role))
    if role is None:
        raise UnprocessableEntity(f"Tenant {value.tenant_slug!r} has no role {value.role!r}.")
    await ops.set_setting(session=session, key=REGISTRATION_SETTING, value=value.model_dump())
    await audit.record(
        session=session,
        action="settings.registration",
        origin=origin,
        principal=principal,
        target_type="setting",
        target_id=REGISTRATION_SETTING,
        detail=value.model_dump(),
    )
    return value


async def register(
    *, session: AsyncSession, settings: Settings, username: str, email: str, password: str, display_name: str, origin: Origin
) -> User:
    """A new account from the sign-up form, when registration is on; a verification link goes out by mail."""
    policy = await registration_settings(session=session)
    if not policy.enabled:
        raise Forbidden("Registration is closed on this server; ask an admin for an account.")
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == policy.tenant_slug))
    if tenant is None or tenant.status != "active":
        raise Forbidden("Registration is not available right now; ask an admin for an account.")
    user = await service.create_user(
        session=session,
        settings=settings,
        principal=None,
        user_in=UserCreate(
            username=username,
            email=email,
            password=password,
            display_name=display_name,
            roles=[policy.role],
            tenant_id=tenant.id,
        ),
        origin=origin,
    )
    user.email_verification_required = policy.require_email_verification
    await audit.record(
        session=session,
        action="auth.register",
        origin=origin,
        tenant_id=tenant.id,
        actor_id=user.id,
        actor_name=user.username,
        target_type="user",
        target_id=user.id,
    )
    await _send_link(session=session, settings=settings, user=user, purpose="verify_email")
    return user


# --- mailed one-time links -------------------------------------------------------------------------

_MAIL_TEXT = {
    "verify_email": (
        "Confirm your email address for Nubes",
        "Hello {name},\n\nopen this link to confirm that {email} is your address:\n\n{link}\n\n"
        "The link works once and expires in 48 hours. If you did not ask for this, ignore this message.\n",
        "/verify-email",
    ),
    "confirm_email": (
        "Confirm your new email address for Nubes",
        "Hello {name},\n\n{actor} asked to make {email} the address of the Nubes account {username}.\n"
        "Open this link to confirm that this mailbox is yours:\n\n{link}\n\n"
        "Until then the account keeps its old address. The link works once and expires in 48 hours. "
        "If you did not expect this, ignore this message.\n",
        "/verify-email",
    ),
    "confirm_before_reset": (
        "Confirm your email address before resetting your Nubes password",
        "Hello {name},\n\nsomeone asked to reset the password of the Nubes account {username}, but {email} "
        "has not been confirmed as its address yet, so no reset link can go to it.\n"
        "Open this link to confirm the address, then ask for the reset again:\n\n{link}\n\n"
        "The link works once and expires in 48 hours. If you did not ask for this, ignore this message.\n",
        "/verify-email",
    ),
    "reset_password": (
        "Reset your Nubes password",
        "Hello {name},\n\nsomeone (hopefully you) asked to reset the password of the Nubes account {username}.\n"
        "Open this link to choose a new one:\n\n{link}\n\n"
        "The link works once and expires in 1 hour. If you did not ask for this, ignore this message: "
        "your password stays as it is.\n",
        "/reset-password",
    ),
}


# Which token each mail carries: the confirmations are all `verify_email` links, checked against the address.
_PURPOSE = {"confirm_email": "verify_email", "confirm_before_reset": "verify_email"}


async def _send_link(
    *, session: AsyncSession, settings: Settings, user: User, purpose: str, to: str | None = None, actor: str = ""
) -> None:
    """Mail a one-time link of `purpose` (a key of _MAIL_TEXT) to `to`, by default the account's address."""
    address = to or user.email
    if not address:
        return
    token = secrets.token_urlsafe(32)
    kind = _PURPOSE.get(purpose, purpose)
    session.add(
        AccountToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            purpose=kind,
            token_hash=_hash(token),
            email=address,
            expires_at=utcnow() + MAIL_TOKEN_TTL[kind],
        )
    )
    subject, text, path = _MAIL_TEXT[purpose]
    # The token travels in the fragment: it never reaches a server log or a Referer header.
    link = f"{settings.base_url}{path}#token={token}"
    name = user.display_name or user.username
    body = text.format(name=name, email=address, username=user.username, link=link, actor=actor)
    await mail.enqueue(session=session, to=address, subject=subject, body=body)


_CHANGE_NOTICE = (
    "Your Nubes account's email address is being changed",
    "Hello {name},\n\n{actor} asked to change the email address of the Nubes account {username} "
    "from {old} to {new}.\nThe change takes effect only when someone opens the link sent to {new}; "
    "until then, mail and password resets keep coming here.\n"
    "If you did not expect this, tell your administrator now.\n",
)


async def update_user(
    *, session: AsyncSession, settings: Settings, principal: Principal, user_id: uuid.UUID, user_in: UserUpdate, origin: Origin
) -> User:
    """An admin's change to a user; a new address gets a confirmation link and the old one a notice."""
    before = (await service.get_user(session=session, principal=principal, user_id=user_id)).pending_email
    user = await service.update_user(session=session, principal=principal, user_id=user_id, user_in=user_in, origin=origin)
    asked = user_in.email.lower() if user_in.email else None
    if asked is None or user.pending_email != asked:
        return user
    await _send_link(session=session, settings=settings, user=user, purpose="confirm_email", to=asked, actor=principal.username)
    if user.email and before != asked:
        subject, text = _CHANGE_NOTICE
        name = user.display_name or user.username
        body = text.format(name=name, actor=principal.username, username=user.username, old=user.email, new=asked)
        await mail.enqueue(session=session, to=user.email, subject=subject, body=body)
    return user


async def request_email_verification(*, session: AsyncSession, settings: Settings, email: str, origin: Origin) -> None:
    """Mail a new verification link when `email` belongs to an unverified account; silent otherwise."""
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.email_verified_at is not None or not user.is_active:
        return
    await _send_link(session=session, settings=settings, user=user, purpose="verify_email")


async def send_my_verification(*, session: AsyncSession, settings: Settings, principal: Principal) -> None:
    """Mail a new confirmation link: for the address waiting to become yours if there is one, else for yours."""
    user = await session.get(User, principal.user_id)
    if user is not None and user.pending_email:
        await _send_link(
            session=session, settings=settings, user=user, purpose="confirm_email", to=user.pending_email, actor=user.username
        )
        return
    if user is None or not user.email:
        raise UnprocessableEntity("Your account has no email address; add one to your profile first.")
    if user.email_verified_at is not None:
        raise Conflict("Your email address is already confirmed.")
    await _send_link(session=session, settings=settings, user=user, purpose="verify_email")


async def _claim_link(session: AsyncSession, *, token: str, purpose: str) -> AccountToken:
    """Use a mailed token once; every failure says the same (nothing is learned by guessing)."""
    now = utcnow()
    result = await session.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == _hash(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise UnprocessableEntity("This link is not valid any more (used, expired or mistyped); ask for a new one.")
    claimed = await session.scalar(select(AccountToken).where(AccountToken.token_hash == _hash(token)))
    if claimed is None:  # deleted with its user between the two statements
        raise UnprocessableEntity("This link is not valid any more; ask for a new one.")
    return claimed


async def verify_email(*, session: AsyncSession, token: str, origin: Origin) -> User:
    """Mark the address the token was sent to as confirmed; a pending new address becomes the account's address."""
    claimed = await _claim_link(session, token=token, purpose="verify_email")
    user = await session.get(User, claimed.user_id)
    if user is not None and user.pending_email is not None and user.pending_email == claimed.email:
        if await session.scalar(select(User.id).where(User.email == claimed.email, User.id != user.id)):
            raise Conflict("That address now belongs to another account; ask for another change.", keep_changes=True)
        previous, user.email, user.pending_email = user.email, claimed.email, None
        user.email_verified_at = utcnow()
        await _audit_self(
            session,
            "user.email_changed",
            origin,
            user,
            target_type="user",
            target_id=user.id,
            detail={"from": previous, "to": user.email},
        )
        return user
    if user is None or user.email != claimed.email:
        raise UnprocessableEntity("This link was for an address the account no longer uses; ask for a new one.")
    user.email_verified_at = utcnow()
    await _audit_self(session, "user.email_verified", origin, user, target_type="user", target_id=user.id)
    return user


async def request_password_reset(*, session: AsyncSession, settings: Settings, email: str, origin: Origin) -> None:
    """Mail a reset link when `email` is an active account's confirmed address; answer the same either way.

    An address nobody has confirmed gets a confirmation link instead: a reset link only ever goes to a
    mailbox that proved it belongs to the account (else whoever set the address could take the account).
    """
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        await audit.record(session=session, action="auth.reset_request", origin=origin, actor_name=email[:150], outcome="failure")
        return
    if user.email_verified_at is None:
        await _send_link(session=session, settings=settings, user=user, purpose="confirm_before_reset")
        await _audit_self(
            session, "auth.reset_request", origin, user, target_type="user", target_id=user.id, outcome="denied",
            detail={"reason": "email_unconfirmed"},
        )  # fmt: skip
        return
    await _send_link(session=session, settings=settings, user=user, purpose="reset_password")
    await _audit_self(session, "auth.reset_request", origin, user, target_type="user", target_id=user.id)


async def reset_password(*, session: AsyncSession, settings: Settings, token: str, new_password: str, origin: Origin) -> User:
    """Set a new password from a mailed link; every session of the account ends."""
    candidate = await session.scalar(select(AccountToken).where(AccountToken.token_hash == _hash(token)))
    if candidate is not None:
        owner = await session.get(User, candidate.user_id)
        if owner is not None:  # check the policy first, so a weak password does not burn the link
            service.check_password_policy(new_password, username=owner.username, email=owner.email)
    claimed = await _claim_link(session, token=token, purpose="reset_password")
    user = await session.get(User, claimed.user_id)
    if user is None or not user.is_active:
        raise UnprocessableEntity("This link is not valid any more (used, expired or mistyped); ask for a new one.")
    if user.email != claimed.email or user.email_verified_at is None:
        raise UnprocessableEntity("This link was for an address the account no longer uses; ask for a new one.")
    user.password_hash = await passwords.hash_password(settings, new_password)
    ended = await service.revoke_user_sessions(session=session, user_id=user.id, reason="password_reset")
    await _audit_self(
        session, "user.password_reset", origin, user, target_type="user", target_id=user.id, detail={"sessions_revoked": ended}
    )
    return user


# --- second factor: TOTP and recovery codes --------------------------------------------------------


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
    user = await _me(session, principal)
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
    return _rowcount(result) == 1


def _new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2)) for _ in range(RECOVERY_CODES)]


def _normal_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


async def _replace_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = _new_recovery_codes()
    session.add_all(RecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=_hash(_normal_code(c))) for c in codes)
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
    user = await _me(session, principal)
    codes = await _replace_recovery_codes(session, user)
    await audit.record(
        session=session, action="user.mfa_enabled", origin=origin, principal=principal, target_type="user", target_id=user.id
    )
    return codes


async def _check_password(session: AsyncSession, settings: Settings, principal: Principal, password: str) -> User:
    user = await _me(session, principal)
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


async def _use_second_factor(session: AsyncSession, settings: Settings, user_id: uuid.UUID, code: str) -> str | None:
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
            RecoveryCode.user_id == user_id, RecoveryCode.code_hash == _hash(_normal_code(code)), RecoveryCode.used_at.is_(None)
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return "recovery_code" if _rowcount(result) == 1 else None


async def start_mfa(*, session: AsyncSession, user: User) -> str:
    """After a right password: the token of the pending second step (the session starts after it)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginChallenge(purpose="mfa", user_id=user.id, token_hash=_hash(token), expires_at=utcnow() + MFA_TTL))
    await session.flush()
    return token


async def finish_mfa(*, session: AsyncSession, settings: Settings, token: str, code: str, origin: Origin) -> User:
    """The user of a pending sign-in whose second factor `code` is right; wrong codes count against the step."""
    now = utcnow()
    pending = await session.scalar(
        select(LoginChallenge).where(LoginChallenge.token_hash == _hash(token), LoginChallenge.purpose == "mfa")
    )
    if pending is None or pending.used_at is not None or pending.expires_at <= now or pending.attempts >= MFA_ATTEMPTS:
        raise Unauthorized("This sign-in step has expired; sign in again with your password.")
    user = await session.get(User, pending.user_id) if pending.user_id else None
    if user is None:
        raise Unauthorized("This sign-in step has expired; sign in again with your password.")
    factor = await _use_second_factor(session, settings, user.id, code)
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
    if _rowcount(result) != 1:
        raise Unauthorized("This sign-in step was already used; sign in again.")
    await service.check_can_sign_in(session=session, user=user, origin=origin)
    await _audit_self(session, "auth.mfa", origin, user, detail={"factor": factor})
    return user


# --- passkeys (WebAuthn) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who the passkeys belong to: the host name (RP ID) and the exact origin the browser must report."""

    id: str
    origin: str
    name: str = "Nubes"


async def _challenge(session: AsyncSession, *, purpose: str, user_id: uuid.UUID | None) -> tuple[str, bytes]:
    token = secrets.token_urlsafe(32)
    challenge = secrets.token_bytes(32)
    session.add(
        LoginChallenge(
            purpose=purpose, user_id=user_id, token_hash=_hash(token), challenge=challenge, expires_at=utcnow() + WEBAUTHN_TTL
        )
    )
    await session.flush()
    return token, challenge


async def _claim_challenge(session: AsyncSession, *, token: str, purpose: str, user_id: uuid.UUID | None) -> bytes:
    now = utcnow()
    stored = await session.scalar(select(LoginChallenge).where(LoginChallenge.token_hash == _hash(token)))
    if stored is None or stored.purpose != purpose or stored.user_id != user_id or stored.expires_at <= now:
        raise UnprocessableEntity("This passkey request has expired; start again.")
    result = await session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == stored.id, LoginChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise UnprocessableEntity("This passkey request was already used; start again.")
    return stored.challenge


def _transports(values: list[str]) -> list[AuthenticatorTransport]:
    known = {transport.value for transport in AuthenticatorTransport}
    return [AuthenticatorTransport(value) for value in values if value in known]


async def passkey_registration_options(
    *, session: AsyncSession, principal: Principal, rp: RelyingParty
) -> tuple[str, dict[str, Any]]:
    """Options for `navigator.credentials.create`, and the token that ties the answer to them."""
    user = await _me(session, principal)
    existing = await session.scalars(select(Passkey).where(Passkey.user_id == user.id))
    token, challenge = await _challenge(session, purpose="passkey_register", user_id=user.id)
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
            PublicKeyCredentialDescriptor(id=key.credential_id, transports=_transports(key.transports)) for key in existing
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
    challenge = await _claim_challenge(session, token=token, purpose="passkey_register", user_id=principal.user_id)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
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


async def _passkey_of(session: AsyncSession, credential: dict[str, Any]) -> Passkey | None:
    raw_id = credential.get("rawId") or credential.get("id")
    try:
        credential_id = base64url_to_bytes(raw_id) if isinstance(raw_id, str) else b""
    except ValueError:
        credential_id = b""
    return await session.scalar(select(Passkey).where(Passkey.credential_id == credential_id)) if credential_id else None


def _assertion_checks_out(rp: RelyingParty, challenge: bytes, passkey: Passkey, credential: dict[str, Any]) -> bool:
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
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return False
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    return True


async def passkey_login_options(*, session: AsyncSession, rp: RelyingParty) -> tuple[str, dict[str, Any]]:
    """Options for `navigator.credentials.get` with any of the user's passkeys (discoverable credentials)."""
    token, challenge = await _challenge(session, purpose="passkey_login", user_id=None)
    options = generate_authentication_options(
        rp_id=rp.id, challenge=challenge, user_verification=UserVerificationRequirement.REQUIRED
    )
    return token, options_to_json_dict(options)


async def passkey_login(
    *, session: AsyncSession, rp: RelyingParty, token: str, credential: dict[str, Any], origin: Origin
) -> User:
    """The user whose passkey signed the challenge (user verification counts as the second factor)."""
    challenge = await _claim_challenge(session, token=token, purpose="passkey_login", user_id=None)
    passkey = await _passkey_of(session, credential)
    if passkey is None:
        await audit.record(session=session, action="auth.passkey", origin=origin, outcome="failure", detail={"reason": "unknown"})
        raise Unauthorized("This passkey is not registered here; sign in with your password.", keep_changes=True)
    if not _assertion_checks_out(rp, challenge, passkey, credential):
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
    await service.check_can_sign_in(session=session, user=user, origin=origin)
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


# --- sudo mode: proving who you are again before changing credentials ---------------------------


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
    user = await _me(session, principal)
    keys = await session.scalars(select(Passkey).where(Passkey.user_id == user.id))
    token, challenge = await _challenge(session, purpose="passkey_sudo", user_id=user.id)
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=key.credential_id, transports=_transports(key.transports)) for key in keys
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
    user = await _me(session, principal)
    device = await session.get(Session, principal.session_id) if principal.session_id else None
    if device is None or principal.credential != "session":
        raise Forbidden("Only a signed-in session can be confirmed; sign in to Nubes.")
    method = "password" if proof.password is not None else "passkey" if proof.passkey is not None else "code"
    if proof.password is not None:
        ok = await passwords.verify_password(settings, user.password_hash, proof.password)
    elif proof.passkey is not None:
        challenge = await _claim_challenge(session, token=proof.passkey.token, purpose="passkey_sudo", user_id=user.id)
        passkey = await _passkey_of(session, proof.passkey.credential)
        mine = passkey is not None and passkey.user_id == user.id
        ok = mine and passkey is not None and _assertion_checks_out(rp, challenge, passkey, proof.passkey.credential)
    else:
        ok = await _use_second_factor(session, settings, user.id, proof.code or "") is not None
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
