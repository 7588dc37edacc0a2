"""Where each caller's requests to a service go, kept a few seconds so a burst of requests reads the registry once.

Keyed by (caller, slug): whether a caller may use a service is part of what is kept. An entry lives `TTL_S`
seconds; a status change of the service (published on the event bus by the registry) drops its entries at once,
so a service marked down answers 503 from the next request. A revoked app permission takes effect within `TTL_S`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from nubes.core.principal import Principal

TTL_S = 5.0
SIZE = 10_000

Target = TypeVar("Target")
Key = tuple[Principal, str]


class Targets(Generic[Target]):
    """Resolved targets by (caller, slug), bounded in number and time."""

    def __init__(self, *, ttl: float = TTL_S, size: int = SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[Key, tuple[Target, float]] = OrderedDict()

    async def resolve(self, key: Key, load: Callable[[], Awaitable[Target]]) -> Target:
        """The target kept under `key` while fresh, else `load()`'s (a refusal it raises is not kept)."""
        kept = self._entries.get(key)
        if kept is not None and time.monotonic() < kept[1]:
            return kept[0]
        target = await load()
        self._entries[key] = (target, time.monotonic() + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return target

    def forget(self, slug: str | None = None) -> None:
        """Drop what is kept for the service `slug` (every service when None)."""
        if slug is None:
            self._entries.clear()
            return
        for key in [key for key in self._entries if key[1] == slug]:
            del self._entries[key]
