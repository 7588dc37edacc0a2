"""Custom fields of documents: the tenant's field definitions (typed, select options) and each document's values."""
