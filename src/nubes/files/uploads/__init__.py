"""Uploads: resumable (tus) uploads and presigned upload and download URLs."""
