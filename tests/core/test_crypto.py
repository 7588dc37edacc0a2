"""Signatures and constant-time comparisons of `core.crypto`."""

from __future__ import annotations

import base64
import hashlib
import hmac

from nubes.core.crypto import equal, sign, subkey, verify


def test_sign_is_hmac_sha256_of_the_parts_joined_by_newlines() -> None:
    key = b"k" * 32
    expected = hmac.new(key, b"GET\nabc\n123", hashlib.sha256).digest()
    assert sign(key, "GET", "abc", b"123") == base64.urlsafe_b64encode(expected).decode().rstrip("=")
    assert "=" not in sign(key, "x")


def test_verify_accepts_only_the_right_signature() -> None:
    key = b"k" * 32
    signature = sign(key, "upload", "42")
    assert verify(key, signature, "upload", "42")
    assert verify(key, signature.encode(), "upload", "42")
    assert not verify(key, signature, "upload", "43")
    assert not verify(b"other", signature, "upload", "42")
    assert not verify(key, signature[:-1], "upload", "42")


def test_client_text_with_any_characters_is_compared_not_refused() -> None:
    # hmac.compare_digest raises TypeError on a str with non-ASCII characters; a client can send one.
    assert not verify(b"k", "é" * 43, "x")
    assert not equal("token", "tökén")
    assert equal("token", b"token")


def test_subkey_is_the_hmac_of_the_purpose_under_the_secret() -> None:
    assert subkey("secret", "nubes/presigned-url/v1") == hmac.new(b"secret", b"nubes/presigned-url/v1", hashlib.sha256).digest()
    assert subkey("secret", "a") != subkey("secret", "b") != subkey("other", "a")
