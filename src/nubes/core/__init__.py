"""The shared kernel: database, errors, logging, HTTP plumbing. Domains build on it; it knows no domain."""
