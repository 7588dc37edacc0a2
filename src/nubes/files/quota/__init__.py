"""Quota: bytes used and allowed per user and per tenant."""
