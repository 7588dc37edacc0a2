"""The per-app data store: JSON documents in named collections, revisions, a changes feed and attachments."""
