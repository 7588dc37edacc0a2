"""Secrets at rest (AES-256-GCM seals) and signatures (HMAC-SHA256), both keyed from the server secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealError(Exception):
    """A sealed value that this server secret cannot open (another secret, or tampered with)."""


def _key(secret_key: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"nubes-seal-v1", info=purpose.encode()).derive(secret_key.encode())


def seal(secret_key: str, purpose: str, plaintext: str) -> str:
    """Encrypt `plaintext`; `purpose` binds it to one use (a TOTP secret cannot be opened as anything else)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret_key, purpose)).encrypt(nonce, plaintext.encode(), purpose.encode())
    return "v1." + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(secret_key: str, purpose: str, value: str) -> str:
    """The plaintext of a `seal` result; SealError when it cannot be opened."""
    if not value.startswith("v1."):
        raise SealError("unknown format")
    try:
        raw = base64.urlsafe_b64decode(value[3:])
        return AESGCM(_key(secret_key, purpose)).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise SealError("cannot be opened with this server secret") from exc


def subkey(secret_key: str, purpose: str) -> bytes:
    """The HMAC-SHA256 of `purpose` under the server secret: a key for one use, never the secret itself."""
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def sign(key: bytes, *parts: str | bytes) -> str:
    """The HMAC-SHA256 of the parts joined by newlines, base64url without padding.

    The join is unambiguous only when no part but the last holds a newline: put free text last.
    """
    message = b"\n".join(part.encode() if isinstance(part, str) else part for part in parts)
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode().rstrip("=")


def sign_hex(key: bytes, message: bytes) -> str:
    """The HMAC-SHA256 of `message` as lowercase hex: the form webhook receivers check (`X-Nubes-Signature`)."""
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify(key: bytes, signature: str | bytes, *parts: str | bytes) -> bool:
    """Whether `signature` is `sign(key, *parts)`, compared in constant time."""
    return equal(sign(key, *parts), signature)


def equal(expected: str | bytes, given: str | bytes) -> bool:
    """Constant-time equality of two secrets, compared as bytes.

    As bytes because `hmac.compare_digest` refuses a str with non-ASCII characters, which any client can send.
    """
    left = expected.encode() if isinstance(expected, str) else expected
    right = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(left, right)
