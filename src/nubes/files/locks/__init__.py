"""Locks: WebDAV write locks on files and folders, honoured by every write path (WebDAV and REST)."""
