"""Public links: a file or folder opened by anyone holding the link, under the tenant's link policy."""
