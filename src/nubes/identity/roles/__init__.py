"""Roles, the role graph and the rank checks."""
