"""What a request wrote to the database, for suites that assert a refused request changed nothing.

The suites run hundreds of refused requests; comparing every table before and after each cost most of their time, so
they record the write statements sent on the database's engine while the request runs instead (every connection:
the test's transaction and any other), which sees a write even when it left the same values behind.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

WRITE = re.compile(r"^\s*(?:WITH\b.*?\b)?(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE | re.DOTALL)
TABLE = re.compile(
    r"^\s*(?:WITH\b.*?\b)?(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO|MERGE\s+INTO)\s+\"?(\w+)\"?",
    re.IGNORECASE | re.DOTALL,
)
SET_COLUMNS = re.compile(r"\bSET\s+(.*?)(?:\s+WHERE\b|\s+RETURNING\b|$)", re.IGNORECASE | re.DOTALL)
UNWATCHED = frozenset({"audit_events"})
"""Tables a refused request may write: denied attempts may be audited."""


def _ignored(statement: str, table: str, ignore: frozenset[tuple[str, str]]) -> bool:
    if table in UNWATCHED:
        return True
    columns = SET_COLUMNS.search(statement)
    if not statement.lstrip().upper().startswith("UPDATE") or columns is None:
        return False
    names = {part.split("=")[0].strip().strip('"') for part in columns.group(1).split(",") if "=" in part}
    return bool(names) and all((table, name) in ignore for name in names)


@contextlib.asynccontextmanager
async def writes_during(session: AsyncSession, *, ignore: frozenset[tuple[str, str]] = frozenset()) -> AsyncIterator[list[str]]:
    """The write statements sent while the block runs, on any connection of `session`'s engine, but those to the audit
    trail and the UPDATEs that set only `ignore`d (table, column) pairs; an empty list when nothing was written."""
    engine = session.bind.engine.sync_engine  # type: ignore[union-attr]
    writes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if WRITE.match(statement) is None:
            return
        table = TABLE.match(statement)
        if table is None or not _ignored(statement, table.group(1).lower(), ignore):
            writes.append(" ".join(statement.split())[:300])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", seen)
