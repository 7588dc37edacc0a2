"""What the identity domain runs beside the requests: the principal cache's Redis link and the tokens' last-use times."""

from __future__ import annotations

from fastapi import FastAPI

from nubes.config import Settings
from nubes.core.domain import Background, Loop, every
from nubes.identity.sessions import cache
from nubes.identity.sessions.usage import FLUSH_EVERY, token_use


def install(app: FastAPI) -> Background:
    """The principal cache on `app.state`; a loop writing the buffered last-use times (a last round at shutdown).

    Without Redis the cache's generations are this process's; with `NUBES_REDIS_URL` the cache stays off until
    the server runs and holds its Redis connection (a loop), so no entry is kept that another replica cannot drop.
    """
    settings: Settings = app.state.settings
    cache.watch()
    shared = bool(settings.redis_url)
    principal_cache = cache.PrincipalCache(ttl=settings.principal_cache_ttl, generations=None if shared else cache.local)
    app.state.principal_cache = principal_cache

    async def flush() -> None:
        await token_use.flush(app.state.db.writer_sessions)

    loops = [every("nubes-token-use", FLUSH_EVERY, flush, last_round=True)]
    if shared and principal_cache.ttl > 0:

        async def share() -> None:
            await cache.share_through_redis(principal_cache, settings.redis_url)

        loops.append(Loop(name="nubes-principal-cache", run=share))
    return Background(loops=loops)
