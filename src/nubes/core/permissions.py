"""What a permission code is; each domain lists its own in `<domain>/permissions.py`, identity's catalog collects them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Permission:
    """One permission code and what it allows."""

    code: str
    description: str
