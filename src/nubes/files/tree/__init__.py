"""The tree: folders and files in each user space, names, trash, search, favorites, zip and byte-range content."""
