"""Settings and feature flags: platform and per-tenant settings in one place, flags read through one cached function."""
