"""Apps: the service registry, the gateway that proxies to services with a signed identity, the OAuth2/OpenID
Connect provider with consent and scopes, and the per-app data store."""
