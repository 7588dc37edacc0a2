"""The second factor: TOTP, recovery codes and passkeys."""
