"""Access tokens (short-lived EdDSA JWTs with a `kid`, keys in the database) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.errors import Unauthorized
from nubes.identity.sessions.models import SigningKey

ALGORITHM = "EdDSA"
ISSUER = "nubes"
AUDIENCE = "nubes"
REFRESH_PREFIX = "nbr_"
log = structlog.get_logger("nubes.identity.sessions.tokens")
PAT_PREFIX = "nbp_"
APP_PASSWORD_PREFIX = "nba_"  # noqa: S105 - the marker of app passwords, not one
OAUTH_TOKEN_PREFIX = "nbo_"  # noqa: S105 - the marker of app tokens (issued by the OAuth2 provider), not one


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime | None = None  # read from a verified token; a token being issued gets its own


@dataclass(slots=True)
class _Key:
    kid: str
    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None
    jwk: dict[str, Any]
    active: bool


class KeyRing:
    """The signing keys, cached from the database; every replica signs with the newest and verifies with all."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keys: dict[str, _Key] = {}
        self._active: str | None = None

    async def _load(self, session: AsyncSession) -> None:
        oldest_valid = utcnow() - timedelta(seconds=self._settings.access_token_ttl * 2)
        rows = await session.scalars(select(SigningKey).order_by(SigningKey.created_at))
        keys: dict[str, _Key] = {}
        active = None
        for row in rows:
            if row.retired_at is not None and row.retired_at < oldest_valid:
                continue  # every token it signed has expired
            public = OKPAlgorithm.from_jwk(row.public_jwk)
            if not isinstance(public, Ed25519PublicKey):
                continue
            private = self._decrypt(row)
            keys[row.kid] = _Key(row.kid, public, private, row.public_jwk, row.retired_at is None)
            if row.retired_at is None and private is not None:
                active = row.kid
        self._keys, self._active = keys, active

    def _decrypt(self, row: SigningKey) -> Ed25519PrivateKey | None:
        """The private half, or None when another secret encrypted it (its tokens still verify with the public half)."""
        try:
            private = serialization.load_pem_private_key(row.private_key.encode(), password=self._secret())
        except ValueError:
            log.warning(
                "signing_key.undecryptable",
                kid=row.kid,
                hint="every server of one install must share NUBES_SECRET_KEY; this one signs with a key of its own",
            )
            return None
        return private if isinstance(private, Ed25519PrivateKey) else None

    def _secret(self) -> bytes:
        return self._settings.secret_key.encode()

    async def _create(self, session: AsyncSession) -> str:
        private = Ed25519PrivateKey.generate()
        kid = secrets.token_urlsafe(12)
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
        jwk |= {"kid": kid, "alg": ALGORITHM, "use": "sig"}
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(self._secret())
        )
        session.add(SigningKey(kid=kid, algorithm=ALGORITHM, private_key=pem.decode(), public_jwk=jwk))
        await session.flush()
        return kid

    async def _active_key(self, session: AsyncSession) -> _Key:
        if self._active is None:
            await self._load(session)
        if self._active is None:
            await self._create(session)
            await self._load(session)
        assert self._active is not None  # noqa: S101 - created just above
        return self._keys[self._active]

    async def rotate(self, session: AsyncSession) -> str:
        """Retire the active key and start signing with a new one; old tokens stay valid until they expire."""
        for row in await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
            row.retired_at = utcnow()
        kid = await self._create(session)
        await self._load(session)
        return kid

    async def jwks(self, session: AsyncSession) -> dict[str, list[dict[str, Any]]]:
        """The public keys, as a JWK Set."""
        await self._active_key(session)
        return {"keys": [key.jwk for key in self._keys.values()]}

    async def issue(self, session: AsyncSession, *, claims: AccessClaims) -> tuple[str, int]:
        """A signed access token and its lifetime in seconds."""
        key = await self._active_key(session)
        now = utcnow()
        ttl = self._settings.access_token_ttl
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(claims.user_id),
            "tid": str(claims.tenant_id),
            "sid": str(claims.session_id),
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=ttl),
            "jti": secrets.token_urlsafe(12),
        }
        assert key.private is not None  # noqa: S101 - the active key is always one this server can decrypt
        return jwt.encode(payload, key.private, algorithm=ALGORITHM, headers={"kid": key.kid}), ttl

    async def sign(self, session: AsyncSession, *, claims: dict[str, Any], ttl: int) -> str:
        """A JWT of `claims` signed with the active key, valid `ttl` seconds (iat, nbf, exp and jti added): what other
        parties verify with the JWKS, such as the gateway's identity assertions. Never an access token: `claims`
        must name its own audience, and `verify` refuses any token without a session (`sid`)."""
        if claims.get("aud") in {None, AUDIENCE} or "sid" in claims:
            raise ValueError("sign(): claims need an audience of their own and no session id (never an access token)")
        key = await self._active_key(session)
        now = utcnow()
        payload = {**claims, "iat": now, "nbf": now, "exp": now + timedelta(seconds=ttl), "jti": secrets.token_urlsafe(12)}
        assert key.private is not None  # noqa: S101 - the active key is always one this server can decrypt
        return jwt.encode(payload, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    async def verify(self, session: AsyncSession, token: str) -> AccessClaims:
        """The claims of a valid token; anything else (no kid, unknown key, alg none, expired, other audience) is 401."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The access token is malformed; sign in again.") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthorized("The access token is not signed the way Nubes signs tokens.")
        if kid not in self._keys:
            await self._load(session)  # another replica may have rotated
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The access token was signed by a key Nubes does not know (or no longer trusts).")
        try:
            payload = jwt.decode(
                token,
                key.public,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "tid", "sid", "aud", "iss"]},
            )
            return AccessClaims(
                uuid.UUID(payload["sub"]),
                uuid.UUID(payload["tid"]),
                uuid.UUID(payload["sid"]),
                datetime.fromtimestamp(payload["exp"], UTC),
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired; refresh it or sign in again.") from None
        except (jwt.PyJWTError, ValueError):
            raise Unauthorized("The access token is not valid; sign in again.") from None


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the hash that is stored instead of it."""
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def new_personal_token() -> tuple[str, str]:
    """A fresh personal access token and its stored hash."""
    token = PAT_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def new_app_password() -> tuple[str, str]:
    """A fresh app password (a device's password for WebDAV and sync clients) and its stored hash."""
    token = APP_PASSWORD_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def new_oauth_token() -> tuple[str, str]:
    """A fresh app token (an OAuth2 access token for a user) and its stored hash."""
    token = OAUTH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy token (no salt needed: the token itself is random)."""
    return hashlib.sha256(token.encode()).hexdigest()
