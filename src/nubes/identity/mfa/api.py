"""Routes for one's second factor: TOTP, recovery codes and passkeys."""

from __future__ import annotations

import uuid

from fastapi import Response

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.identity.deps import LimiterDep, OriginDep, RelyingPartyDep, SessionPrincipal, SettingsDep, SudoPrincipal
from nubes.identity.mfa import service
from nubes.identity.mfa.models import Passkey
from nubes.identity.mfa.schemas import (
    PasskeyCreate,
    PasskeyOptions,
    PasskeyRead,
    PasskeyUpdate,
    RecoveryCodes,
    TotpCode,
    TotpEnrollmentRead,
    TotpStatus,
)
from nubes.identity.users.schemas import CurrentPassword

router = api_router()


@router.get("/users/me/totp", operation_id="users-me-totp", response_model=TotpStatus, tags=["users"], summary="My second factor")
async def totp_status(session: SessionDep, principal: SessionPrincipal) -> TotpStatus:
    enabled, left = await service.totp_status(session=session, principal=principal)
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
    enrollment = await service.begin_totp(session=session, settings=settings, principal=principal)
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
    codes = await service.confirm_totp(session=session, settings=settings, principal=principal, code=body.code, origin=origin)
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
    await service.disable_totp(session=session, settings=settings, principal=principal, password=body.password, origin=origin)


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
    codes = await service.regenerate_recovery_codes(
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
    return await service.list_passkeys(session=session, principal=principal)


@router.post(
    "/users/me/passkeys/options",
    operation_id="users-me-passkeys-options",
    response_model=PasskeyOptions,
    tags=["users"],
    summary="Start adding a passkey",
)
async def passkey_registration_options(session: SessionDep, principal: SudoPrincipal, rp: RelyingPartyDep) -> PasskeyOptions:
    token, options = await service.passkey_registration_options(session=session, principal=principal, rp=rp)
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
    return await service.register_passkey(
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
    return await service.rename_passkey(session=session, principal=principal, passkey_id=passkey_id, name=body.name)


@router.delete(
    "/users/me/passkeys/{passkey_id:uuid}",
    operation_id="users-me-passkeys-delete",
    status_code=204,
    tags=["users"],
    summary="Remove a passkey",
)
async def delete_passkey(passkey_id: uuid.UUID, session: SessionDep, principal: SudoPrincipal, origin: OriginDep) -> None:
    await service.delete_passkey(session=session, principal=principal, passkey_id=passkey_id, origin=origin)
