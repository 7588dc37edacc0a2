"""Request and response bodies for TOTP, recovery codes and passkeys."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from nubes.identity.schemas import OneTimeToken


class MfaLogin(BaseModel):
    """The second sign-in step: the token from the first and a code from the app (or a recovery code)."""

    mfa_token: OneTimeToken
    code: str = Field(min_length=6, max_length=32, description="6 digits from the authenticator app, or a recovery code.")


class TotpEnrollmentRead(BaseModel):
    """A new authenticator secret: scan the QR code (or type the secret), then confirm with a code."""

    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


class TotpCode(BaseModel):
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$", description="6 digits from the authenticator app.")


class TotpStatus(BaseModel):
    enabled: bool
    recovery_codes_left: int


class RecoveryCodes(BaseModel):
    """One-time codes for when the authenticator is lost; shown only now, keep them somewhere safe."""

    codes: list[str]


class PasskeyOptions(BaseModel):
    """WebAuthn options for the browser (`PublicKeyCredential.parse*OptionsFromJSON`) and the token to send back."""

    token: str
    public_key: dict[str, object]


class PasskeyCreate(BaseModel):
    """The credential the browser created (`credential.toJSON()`), with a name to recognise it by."""

    token: OneTimeToken
    name: str = Field(default="Passkey", min_length=1, max_length=100)
    credential: dict[str, object]


class PasskeyLogin(BaseModel):
    """The assertion the browser made (`credential.toJSON()`)."""

    token: OneTimeToken
    credential: dict[str, object]


class PasskeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


class PasskeyUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
