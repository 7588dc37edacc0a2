"""WebDAV tests: the protocol through the app, hostile requests, and litmus against a real server."""
