"""Routes of account security: sign-up, mailed links, the second sign-in step, TOTP, passkeys."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from nubes.core.db import SessionDep
from nubes.core.errors import Forbidden
from nubes.core.ratelimit import RateLimiter
from nubes.core.routing import api_router
from nubes.identity import security, service
from nubes.identity.api import LimiterDep, MailDep, SuperAdmin, send_mail_after_commit, token_pair
from nubes.identity.auth import (
    KeyRingDep,
    OriginDep,
    SessionPrincipal,
    SettingsDep,
    SudoPrincipal,
    same_origin,
    set_session_cookies,
)
from nubes.identity.models import Passkey, User
from nubes.identity.schemas import (
    AuthOptions,
    CurrentPassword,
    EmailRequest,
    MfaLogin,
    PasskeyCreate,
    PasskeyLogin,
    PasskeyOptions,
    PasskeyRead,
    PasskeyUpdate,
    PasswordReset,
    RecoveryCodes,
    RegisterRequest,
    RegistrationSettings,
    SudoRead,
    SudoRequest,
    TokenPair,
    TokenRequest,
    TotpCode,
    TotpEnrollmentRead,
    TotpStatus,
    UserRead,
)

router = api_router()


async def _relying_party(request: Request, settings: SettingsDep) -> security.RelyingParty:
    """Passkeys belong to the public URL's host; without one, to the host the browser used."""
    origin = settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    return security.RelyingParty(id=urlsplit(origin).hostname or "localhost", origin=origin)


RelyingPartyDep = Annotated[security.RelyingParty, Depends(_relying_party)]


async def _count_mail_request(limiter: RateLimiter, settings: SettingsDep, origin: OriginDep, email: str) -> None:
    """Mail requests count per IP and per address (nobody floods one mailbox from many addresses)."""
    await limiter.hit("mail-ip", origin.ip, settings.login_rate_limit)
    await limiter.hit("mail-address", email, settings.login_rate_limit)


def _browser_only_from_here(request: Request, settings: SettingsDep, what: str) -> None:
    if not same_origin(request, settings):
        raise Forbidden(f"{what} from another site is refused (CSRF protection).")


async def _signed_in(
    response: Response, session: SessionDep, settings: SettingsDep, keyring: KeyRingDep, user: User, origin: OriginDep
) -> TokenPair:
    signed_in = await service.start_session(session=session, settings=settings, user=user, origin=origin)
    pair = await token_pair(session, keyring, signed_in)
    set_session_cookies(response, settings, access_token=pair.access_token, refresh_token=pair.refresh_token)
    response.headers["Cache-Control"] = "no-store"
    return pair


# --- public: what the sign-in page offers, sign-up, mailed links -----------------------------------


@router.get("/auth/options", operation_id="auth-options", response_model=AuthOptions, tags=["auth"], summary="Sign-in options")
async def auth_options(session: SessionDep) -> AuthOptions:
    """Whether sign-up is open, so the sign-in page shows only what works here."""
    policy = await security.registration_settings(session=session)
    return AuthOptions(
        registration_enabled=policy.enabled,
        email_verification_required=policy.require_email_verification,
        password_reset=True,
        passkeys=True,
    )


@router.post(
    "/auth/register",
    operation_id="auth-register",
    response_model=UserRead,
    status_code=201,
    tags=["auth"],
    summary="Create your own account (when registration is on)",
)
async def register(
    body: RegisterRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    origin: OriginDep,
    limiter: LimiterDep,
    mail: MailDep,
) -> UserRead:
    """A new account in the tenant the admin chose; a link to confirm the address goes out by mail."""
    _browser_only_from_here(request, settings, "Sign-up")
    await limiter.hit("register-ip", origin.ip, settings.login_rate_limit)
    user = await security.register(
        session=session,
        settings=settings,
        username=body.username,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        origin=origin,
    )
    send_mail_after_commit(session, mail)
    return UserRead.model_validate(user)


@router.post(
    "/auth/verify-email",
    operation_id="auth-verify-email",
    status_code=204,
    tags=["auth"],
    summary="Confirm an email address with the mailed token",
)
async def verify_email(
    body: TokenRequest, session: SessionDep, origin: OriginDep, limiter: LimiterDep, settings: SettingsDep
) -> None:
    await limiter.hit("link-ip", origin.ip, settings.login_rate_limit)
    await security.verify_email(session=session, token=body.token, origin=origin)


@router.post(
    "/auth/verify-email/request",
    operation_id="auth-verify-email-request",
    status_code=202,
    tags=["auth"],
    summary="Mail a new confirmation link",
)
async def request_verification(
    body: EmailRequest,
    session: SessionDep,
    settings: SettingsDep,
    origin: OriginDep,
    limiter: LimiterDep,
    mail: MailDep,
) -> None:
    """Answers 202 whether or not an account uses the address (nobody learns which addresses exist)."""
    await _count_mail_request(limiter, settings, origin, body.email)
    await security.request_email_verification(session=session, settings=settings, email=body.email, origin=origin)
    send_mail_after_commit(session, mail)


@router.post(
    "/auth/password-reset/request",
    operation_id="auth-password-reset-request",
    status_code=202,
    tags=["auth"],
    summary="Mail a password reset link",
)
async def request_reset(
    body: EmailRequest,
    session: SessionDep,
    settings: SettingsDep,
    origin: OriginDep,
    limiter: LimiterDep,
    mail: MailDep,
) -> None:
    """Answers 202 whether or not an account uses the address (nobody learns which addresses exist)."""
    await _count_mail_request(limiter, settings, origin, body.email)
    await security.request_password_reset(session=session, settings=settings, email=body.email, origin=origin)
    send_mail_after_commit(session, mail)


@router.post(
    "/auth/password-reset",
    operation_id="auth-password-reset",
    status_code=204,
    tags=["auth"],
    summary="Set a new password with the mailed token",
)
async def reset_password(
    body: PasswordReset, session: SessionDep, settings: SettingsDep, origin: OriginDep, limiter: LimiterDep
) -> None:
    """Sets the password and ends every session of the account (sign in again with the new password)."""
    await limiter.hit("link-ip", origin.ip, settings.login_rate_limit)
    await security.reset_password(
        session=session, settings=settings, token=body.token, new_password=body.new_password, origin=origin
    )


# --- public: the second sign-in step and passkey sign-in -------------------------------------------


@router.post(
    "/auth/login/mfa",
    operation_id="auth-login-mfa",
    response_model=TokenPair,
    tags=["auth"],
    summary="Finish signing in with a code from the authenticator app (or a recovery code)",
)
async def login_mfa(
    body: MfaLogin,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    limiter: LimiterDep,
) -> TokenPair:
    _browser_only_from_here(request, settings, "Sign-in")
    await limiter.hit("mfa-ip", origin.ip, settings.login_rate_limit)
    await limiter.hit("mfa-token", body.mfa_token, settings.login_rate_limit)
    user = await security.finish_mfa(session=session, settings=settings, token=body.mfa_token, code=body.code, origin=origin)
    return await _signed_in(response, session, settings, keyring, user, origin)


@router.post(
    "/auth/passkeys/options",
    operation_id="auth-passkey-options",
    response_model=PasskeyOptions,
    tags=["auth"],
    summary="Start signing in with a passkey",
)
async def passkey_login_options(
    session: SessionDep, rp: RelyingPartyDep, origin: OriginDep, limiter: LimiterDep, settings: SettingsDep
) -> PasskeyOptions:
    await limiter.hit("passkey-ip", origin.ip, settings.login_rate_limit)
    token, options = await security.passkey_login_options(session=session, rp=rp)
    return PasskeyOptions(token=token, public_key=options)


@router.post(
    "/auth/passkeys/login",
    operation_id="auth-passkey-login",
    response_model=TokenPair,
    tags=["auth"],
    summary="Sign in with a passkey",
)
async def passkey_login(
    body: PasskeyLogin,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    rp: RelyingPartyDep,
) -> TokenPair:
    _browser_only_from_here(request, settings, "Sign-in")
    user = await security.passkey_login(session=session, rp=rp, token=body.token, credential=body.credential, origin=origin)
    return await _signed_in(response, session, settings, keyring, user, origin)


# --- sudo mode: confirm it's you before changing credentials ---------------------------------------


@router.post(
    "/auth/sudo",
    operation_id="auth-sudo",
    response_model=SudoRead,
    tags=["auth"],
    summary="Confirm it's you (password, passkey or authenticator code) before changing credentials",
    responses={403: {"description": "Not confirmed (type `urn:nubes:problem:reauthentication-failed`), or a token"}},
)
async def sudo(
    body: SudoRequest,
    session: SessionDep,
    settings: SettingsDep,
    principal: SessionPrincipal,
    origin: OriginDep,
    limiter: LimiterDep,
    rp: RelyingPartyDep,
) -> SudoRead:
    """Password, passkey and code changes, tokens and sessions need this within the last few minutes (NUBES_SUDO_TTL)."""
    await limiter.hit("sudo-user", str(principal.user_id), settings.login_rate_limit)
    until = await security.reauthenticate(
        session=session, settings=settings, principal=principal, rp=rp, proof=body, origin=origin
    )
    return SudoRead(expires_at=until)


@router.post(
    "/auth/sudo/passkey-options",
    operation_id="auth-sudo-passkey-options",
    response_model=PasskeyOptions,
    tags=["auth"],
    summary="Start confirming it's you with a passkey",
)
async def sudo_passkey_options(session: SessionDep, principal: SessionPrincipal, rp: RelyingPartyDep) -> PasskeyOptions:
    """Options for `navigator.credentials.get` with your passkeys; send the answer to POST /api/auth/sudo."""
    token, options = await security.sudo_passkey_options(session=session, principal=principal, rp=rp)
    return PasskeyOptions(token=token, public_key=options)


# --- the signed-in user: email, TOTP, recovery codes, passkeys -------------------------------------


@router.post(
    "/users/me/email/verify",
    operation_id="users-me-email-verify",
    status_code=202,
    tags=["users"],
    summary="Mail me a link to confirm my address",
)
async def send_my_verification(session: SessionDep, settings: SettingsDep, principal: SessionPrincipal, mail: MailDep) -> None:
    await security.send_my_verification(session=session, settings=settings, principal=principal)
    send_mail_after_commit(session, mail)


@router.get("/users/me/totp", operation_id="users-me-totp", response_model=TotpStatus, tags=["users"], summary="My second factor")
async def totp_status(session: SessionDep, principal: SessionPrincipal) -> TotpStatus:
    enabled, left = await security.totp_status(session=session, principal=principal)
    return TotpStatus(enabled=enabled, recovery_codes_left=left)


@router.post(
    "/users/me/totp",
    operation_id="users-me-totp-begin",
    response_model=TotpEnrollmentRead,
    status_code=201,
    tags=["users"],
    summary="Start setting up an authenticator app",
)
async def totp_begin(
    session: SessionDep, settings: SettingsDep, principal: SudoPrincipal, response: Response
) -> TotpEnrollmentRead:
    enrollment = await security.begin_totp(session=session, settings=settings, principal=principal)
    response.headers["Cache-Control"] = "no-store"
    return TotpEnrollmentRead(
        secret=enrollment.secret, otpauth_uri=enrollment.otpauth_uri, qr_svg_data_uri=enrollment.qr_svg_data_uri
    )


@router.post(
    "/users/me/totp/confirm",
    operation_id="users-me-totp-confirm",
    response_model=RecoveryCodes,
    tags=["users"],
    summary="Turn on two-factor sign-in with a first code",
)
async def totp_confirm(
    body: TotpCode,
    session: SessionDep,
    settings: SettingsDep,
    principal: SudoPrincipal,
    origin: OriginDep,
    limiter: LimiterDep,
    response: Response,
) -> RecoveryCodes:
    await limiter.hit("totp-user", str(principal.user_id), settings.login_rate_limit)
    codes = await security.confirm_totp(session=session, settings=settings, principal=principal, code=body.code, origin=origin)
    response.headers["Cache-Control"] = "no-store"
    return RecoveryCodes(codes=codes)


@router.post(
    "/users/me/totp/disable",
    operation_id="users-me-totp-disable",
    status_code=204,
    tags=["users"],
    summary="Turn off two-factor sign-in",
)
async def totp_disable(
    body: CurrentPassword, session: SessionDep, settings: SettingsDep, principal: SudoPrincipal, origin: OriginDep
) -> None:
    await security.disable_totp(session=session, settings=settings, principal=principal, password=body.password, origin=origin)


@router.post(
    "/users/me/recovery-codes",
    operation_id="users-me-recovery-codes",
    response_model=RecoveryCodes,
    tags=["users"],
    summary="Replace my recovery codes",
)
async def new_recovery_codes(
    body: CurrentPassword,
    session: SessionDep,
    settings: SettingsDep,
    principal: SudoPrincipal,
    origin: OriginDep,
    response: Response,
) -> RecoveryCodes:
    codes = await security.regenerate_recovery_codes(
        session=session, settings=settings, principal=principal, password=body.password, origin=origin
    )
    response.headers["Cache-Control"] = "no-store"
    return RecoveryCodes(codes=codes)


@router.get(
    "/users/me/passkeys",
    operation_id="users-me-passkeys",
    response_model=list[PasskeyRead],
    tags=["users"],
    summary="My passkeys",
)
async def my_passkeys(session: SessionDep, principal: SessionPrincipal) -> list[Passkey]:
    return await security.list_passkeys(session=session, principal=principal)


@router.post(
    "/users/me/passkeys/options",
    operation_id="users-me-passkeys-options",
    response_model=PasskeyOptions,
    tags=["users"],
    summary="Start adding a passkey",
)
async def passkey_registration_options(session: SessionDep, principal: SudoPrincipal, rp: RelyingPartyDep) -> PasskeyOptions:
    token, options = await security.passkey_registration_options(session=session, principal=principal, rp=rp)
    return PasskeyOptions(token=token, public_key=options)


@router.post(
    "/users/me/passkeys",
    operation_id="users-me-passkeys-create",
    response_model=PasskeyRead,
    status_code=201,
    tags=["users"],
    summary="Add the passkey the browser created",
)
async def add_passkey(
    body: PasskeyCreate, session: SessionDep, principal: SudoPrincipal, rp: RelyingPartyDep, origin: OriginDep
) -> Passkey:
    return await security.register_passkey(
        session=session, principal=principal, rp=rp, token=body.token, name=body.name, credential=body.credential, origin=origin
    )


@router.patch(
    "/users/me/passkeys/{passkey_id:uuid}",
    operation_id="users-me-passkeys-update",
    response_model=PasskeyRead,
    tags=["users"],
    summary="Rename a passkey",
)
async def rename_passkey(passkey_id: uuid.UUID, body: PasskeyUpdate, session: SessionDep, principal: SudoPrincipal) -> Passkey:
    return await security.rename_passkey(session=session, principal=principal, passkey_id=passkey_id, name=body.name)


@router.delete(
    "/users/me/passkeys/{passkey_id:uuid}",
    operation_id="users-me-passkeys-delete",
    status_code=204,
    tags=["users"],
    summary="Remove a passkey",
)
async def delete_passkey(passkey_id: uuid.UUID, session: SessionDep, principal: SudoPrincipal, origin: OriginDep) -> None:
    await security.delete_passkey(session=session, principal=principal, passkey_id=passkey_id, origin=origin)


# --- platform admin: registration policy -----------------------------------------------------------


@router.get(
    "/admin/settings/registration",
    operation_id="admin-settings-registration",
    response_model=RegistrationSettings,
    tags=["admin"],
    summary="Self-registration policy",
)
async def get_registration(session: SessionDep, _: SuperAdmin) -> RegistrationSettings:
    return await security.registration_settings(session=session)


@router.put(
    "/admin/settings/registration",
    operation_id="admin-settings-registration-update",
    response_model=RegistrationSettings,
    tags=["admin"],
    summary="Turn self-registration on or off",
)
async def put_registration(
    body: RegistrationSettings, session: SessionDep, principal: SuperAdmin, origin: OriginDep
) -> RegistrationSettings:
    return await security.set_registration_settings(session=session, principal=principal, value=body, origin=origin)
