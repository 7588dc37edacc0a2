"""Routes of the ops domain mounted at the root, outside /api: the Prometheus exposition at `/metrics`, where
scrapers expect it."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.ops.metrics import prometheus

routers: list[APIRouter] = [prometheus.router]
