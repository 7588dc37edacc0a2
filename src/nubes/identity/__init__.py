"""Identity: tenants, users, roles and permissions, sessions and tokens, the audit trail of who did what."""
