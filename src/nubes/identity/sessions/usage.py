"""When (and from where) tokens and app passwords were last used: noted by requests, which only read, and written in
batches.

A script calling the API many times a second must not turn its reads into writes. Each request notes the
token's use in this process's buffer; a loop writes the buffer every `FLUSH_EVERY` seconds (and at shutdown)
in one transaction. The time shown can lag by that much; a crash loses at most that much of it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.identity.sessions.cache import UNCHANGED_ACCESS
from nubes.identity.sessions.models import PersonalAccessToken

FLUSH_EVERY = 30.0
"""Seconds between writes of the buffered last-use times."""


class TokenUse:
    """Last-use times (and addresses) of access tokens waiting to be written (one per token: the latest)."""

    def __init__(self) -> None:
        self._seen: dict[uuid.UUID, tuple[datetime, str]] = {}

    def note(self, token_id: uuid.UUID, when: datetime, ip: str = "") -> None:
        """Remember that the token was used at `when` (from `ip`, when known)."""
        latest = self._seen.get(token_id)
        if latest is None or when > latest[0]:
            self._seen[token_id] = (when, ip[:64] or (latest[1] if latest else ""))

    async def flush(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """Write the buffered times (never moving a time back); returns how many tokens were written."""
        seen, self._seen = self._seen, {}
        if not seen:
            return 0
        try:
            async with sessions() as session, session.begin():
                for token_id, (when, ip) in seen.items():
                    values: dict[str, object] = {"last_used_at": when}
                    if ip:
                        values["last_used_ip"] = ip
                    await session.execute(
                        update(PersonalAccessToken)
                        .where(
                            PersonalAccessToken.id == token_id,
                            or_(PersonalAccessToken.last_used_at.is_(None), PersonalAccessToken.last_used_at < when),
                        )
                        .values(**values)
                        .execution_options(**UNCHANGED_ACCESS)
                    )
        except BaseException:
            for token_id, (when, ip) in seen.items():  # kept for the next round
                self.note(token_id, when, ip)
            raise
        return len(seen)


token_use = TokenUse()
"""This process's buffer."""
