"""Tenants: the isolation boundary of every owned row."""
