"""Bulk actions on documents: one change for many documents at once, all of them or none."""
