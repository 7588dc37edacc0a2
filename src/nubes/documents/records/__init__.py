"""Documents: the metadata of a file, its tags and categories, and its history."""
