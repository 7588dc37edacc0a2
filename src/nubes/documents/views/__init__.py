"""Saved views of documents: a named list query (filters, order) with its columns, pinned where its owner wants it."""
