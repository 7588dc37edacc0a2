"""Jobs: queued operations on containers and their auto-restarts."""
