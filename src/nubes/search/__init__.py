"""Search: a full-text index of documents (title, text, notes, vocabulary) on SQLite FTS5 or PostgreSQL tsvector,
queried with the caller's permissions inside the query."""
