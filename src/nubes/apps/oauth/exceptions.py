"""Errors of the OAuth2 protocol: answered as RFC 6749 error objects (`{"error": ..., "error_description": ...}`),
which OAuth clients read, not as problem documents."""

from __future__ import annotations


class OAuthError(Exception):
    """A refusal of the token, revocation, introspection or userinfo endpoint, or of an authorization request.

    - `redirect`: an authorization error the client may learn through its (verified) redirect URI; False for the
      errors that must never redirect (unknown client, redirect URI not registered): the user sees an error page.
    - `keep_changes`: what the request wrote must stay (a replayed code or a reused refresh token revoked a grant).
    """

    def __init__(
        self, error: str, description: str, *, status: int = 400, redirect: bool = True, keep_changes: bool = False
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.redirect = redirect
        self.keep_changes = keep_changes

    def body(self) -> dict[str, str]:
        """The RFC 6749 error object."""
        return {"error": self.error, "error_description": self.description}


class InvalidClient(OAuthError):
    """Client authentication failed (unknown client, wrong secret, or no secret from a confidential client)."""

    def __init__(self, description: str = "Client authentication failed: check the client id and secret.") -> None:
        super().__init__("invalid_client", description, status=401)


class InvalidGrant(OAuthError):
    """The code or refresh token is not valid for this client (unknown, expired, used, revoked, another client's)."""

    def __init__(self, description: str, *, keep_changes: bool = False) -> None:
        super().__init__("invalid_grant", description, keep_changes=keep_changes)
