"""Users, their passwords, sign-up, mailed links and the directory."""
