"""Sign-in, sessions, access tokens (JWT keys), personal access tokens and sudo mode."""
