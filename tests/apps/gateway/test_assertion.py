"""The identity assertion: what it says, that it is signed like Nubes' tokens, and that it is never an access token."""

from __future__ import annotations

import uuid

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.gateway.assertion import claims_of
from nubes.config import Settings
from nubes.core.errors import Unauthorized
from nubes.core.principal import Principal
from nubes.identity.sessions.tokens import KeyRing


def _principal(**extra: object) -> Principal:
    values: dict[str, object] = {
        "user_id": uuid.uuid4(),
        "tenant_id": uuid.uuid4(),
        "username": "ada",
        "permissions": frozenset({"apps.use", "files.read"}),
    }
    return Principal(**{**values, **extra})  # type: ignore[arg-type]


def test_an_app_tokens_assertion_carries_only_its_scopes_and_grants_and_names_the_client() -> None:
    principal = _principal(
        credential="token", client_id="notes-app", grants=frozenset({"data:write:posts"}), permissions=frozenset({"apps.use"})
    )
    claims = claims_of(principal, audience="notes", issuer="https://cloud.example.org", groups=["b", "a"])
    assert claims == {
        "iss": "https://cloud.example.org",
        "aud": "notes",
        "sub": str(principal.user_id),
        "tid": str(principal.tenant_id),
        "preferred_username": "ada",
        "groups": ["a", "b"],
        "scopes": ["apps.use", "data:write:posts"],
        "azp": "notes-app",
    }
    assert claims_of(_principal(is_superadmin=True), audience="notes", issuer="nubes", groups=[])["superadmin"] is True


async def test_a_signed_assertion_verifies_with_the_jwks_but_is_refused_as_an_access_token(
    session: AsyncSession, settings: Settings
) -> None:
    keyring = KeyRing(settings)
    token = await keyring.sign(session, claims={"iss": "nubes", "aud": "echo", "sub": "x"}, ttl=60)
    header = jwt.get_unverified_header(token)
    keys = {key["kid"]: key for key in (await keyring.jwks(session))["keys"]}
    public = jwt.PyJWK(keys[header["kid"]]).key
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="echo", issuer="nubes")
    assert claims["exp"] - claims["iat"] == 60
    with pytest.raises(Unauthorized):
        await keyring.verify(session, token)
    for refused in ({"aud": "nubes"}, {"sub": "x"}, {"aud": "echo", "sid": str(uuid.uuid4())}):
        with pytest.raises(ValueError, match="never an access token"):
            await keyring.sign(session, claims=refused, ttl=60)
