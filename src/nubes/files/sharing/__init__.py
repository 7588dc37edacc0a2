"""Sharing: files and folders shared with people and groups, and the access a share grants."""
