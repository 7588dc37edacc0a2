"""Secrets at rest: values sealed with a key derived from the server secret (AES-256-GCM)."""

from __future__ import annotations

import base64
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
