"""The OAuth2 / OpenID Connect provider: clients, authorization with consent, app tokens bounded by their scopes."""
