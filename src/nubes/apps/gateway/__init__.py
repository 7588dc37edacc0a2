"""The gateway: `/apps/<slug>/...` proxied to registered services with a signed identity assertion, streaming both ways."""
