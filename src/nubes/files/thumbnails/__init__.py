"""Thumbnails: small previews of images and of PDFs' first pages, made by a background job."""
