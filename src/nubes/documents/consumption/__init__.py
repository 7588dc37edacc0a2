"""The documents inbox: files that land in `Documents/Inbox` (from the files page, a sync client, WebDAV) become documents."""
