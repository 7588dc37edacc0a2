"""Nubes: one self-hosted, multi-tenant cloud for files, documents, apps and containers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nubes")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+source"

API_VERSION = "1"
