"""What the identity domain runs beside the requests: writing access tokens' last-use times in batches."""

from __future__ import annotations

from fastapi import FastAPI

from nubes.core.domain import Background, every
from nubes.identity.sessions.usage import FLUSH_EVERY, token_use


def install(app: FastAPI) -> Background:
    """A loop writing the buffered last-use times (a last round at shutdown)."""

    async def flush() -> None:
        await token_use.flush(app.state.db.writer_sessions)

    return Background(loops=[every("nubes-token-use", FLUSH_EVERY, flush, last_round=True)])
