"""Backups: the whole install backed up (database, blobs, secrets), encrypted, verified, restorable."""
