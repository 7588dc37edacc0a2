"""Containers: a tenant's containers, their lifecycle, and the files of their volumes."""
