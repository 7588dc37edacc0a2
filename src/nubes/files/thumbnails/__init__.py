"""Thumbnails: small previews of images, made by a background job."""
