"""WebDAV (RFC 4918) at /dav/files/{username}/: a protocol front-end over the file tree's services."""
