"""Documents: files of the tree with document metadata (types, correspondents, tags, categories), their text read
by durable extraction jobs (PDF text layers, OCR, e-mail, office files), and the tenant's vocabularies."""
