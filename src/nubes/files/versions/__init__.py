"""Versions: earlier contents of a file, restoring them, and the retention that prunes them."""
