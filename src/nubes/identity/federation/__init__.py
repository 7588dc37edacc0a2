"""Sign-in through external identity providers: OpenID Connect (Nubes as a relying party) and partner tickets."""
