"""Rules of search: what the index holds (kept in step with documents by the indexer), and the permission-aware query.

A query sees only what its caller may open, inside the query itself: the caller's own documents, and those under a
file or folder its owner shared with the caller or one of their groups (files in the trash are never found). Counts
and facets are computed over that same set, so nothing about anyone else's documents leaks through them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, String, and_, bindparam, delete, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.principal import Principal
from nubes.documents.records import service as documents
from nubes.files.tree import service as files
from nubes.search.models import SearchEntry
from nubes.search.query import Parsed, fts5, parse, tsquery

BATCH = 200
SNIPPET_WORDS = 16
OPEN, CLOSE = "\u0002", "\u0003"
"""Marks around each matched word in a snippet (control characters no text of the index holds); the API turns them
into a list of plain and matched parts, so no markup is ever built from document text."""


# --- the index ---------------------------------------------------------------------------------------------------------


async def index_changes(session: AsyncSession, *, limit: int = BATCH) -> int:
    """Index the next documents whose entry is missing or holds another change than theirs (at most `limit`); return
    how many. Compared exactly, not by a cursor in time: a transaction that commits late is never skipped. The
    caller commits."""
    feed = documents.change_feed().subquery()
    stale = (
        select(feed.c.id)
        .outerjoin(SearchEntry, SearchEntry.document_id == feed.c.id)
        .where(or_(SearchEntry.id.is_(None), SearchEntry.source_changed_at != feed.c.changed_at))
        .limit(limit)
    )
    ids = list(await session.scalars(stale))
    for source in await documents.index_sources(session, ids):
        await _upsert(session, source)
    await session.flush()
    return len(ids)


async def _upsert(session: AsyncSession, source: documents.IndexSource) -> None:
    entry = await session.scalar(select(SearchEntry).where(SearchEntry.document_id == source.document_id))
    if entry is None:
        entry = SearchEntry(document_id=source.document_id, tenant_id=source.tenant_id)
        session.add(entry)
    entry.owner_id, entry.file_id, entry.title, entry.body = source.owner_id, source.file_id, source.title, source.body
    entry.source_changed_at, entry.updated_at = source.changed_at, utcnow()


async def rebuild(session: AsyncSession) -> None:
    """Start the index over: drop every entry (the indexer then reads every document again)."""
    await session.execute(delete(SearchEntry))


async def pending(session: AsyncSession) -> tuple[int, int]:
    """How many documents there are, and how many the index holds (for progress)."""
    indexed = await session.scalar(select(func.count()).select_from(SearchEntry))
    return await documents.count_all(session), int(indexed or 0)


# --- the query ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: uuid.UUID
    file_id: uuid.UUID
    title: str
    snippet: str
    rank: float


def _visible(principal: Principal) -> Any:
    """What the principal may find: their own entries, and those under what an owner shared with them; never the trash."""
    return and_(
        SearchEntry.tenant_id == principal.tenant_id,
        or_(SearchEntry.owner_id == principal.user_id, SearchEntry.file_id.in_(files.shared_with(principal))),
        files.is_live(SearchEntry.file_id),
    )


def _filtered(statement: Select[Any], principal: Principal, parsed: Parsed) -> Select[Any]:
    matching = documents.matching_filters(principal, parsed.filters)
    return statement if matching is None else statement.where(SearchEntry.document_id.in_(matching))


async def search(session: AsyncSession, principal: Principal, text_query: str, *, limit: int) -> tuple[list[Hit], int]:
    """The best `limit` matches of `text_query` the principal may open, ranked, with a snippet each; and the total."""
    parsed = parse(text_query)
    if parsed.empty:
        return [], 0
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return await _search_postgresql(session, principal, parsed, limit)
    return await _search_sqlite(session, principal, parsed, limit)


Rows = list[tuple[uuid.UUID, uuid.UUID, str, str, float]]


def _hits(rows: Rows, *, lower_is_better: bool = False) -> list[Hit]:
    return [
        Hit(document_id=document_id, file_id=file_id, title=title, snippet=snippet or "",
            rank=-float(rank or 0) if lower_is_better else float(rank or 0))
        for document_id, file_id, title, snippet, rank in rows
    ]  # fmt: skip


def _newest(base: Select[Any], limit: int) -> Select[Any]:
    """Filters only, no words: the newest entries, without snippets."""
    columns: tuple[Any, ...] = (
        SearchEntry.document_id,
        SearchEntry.file_id,
        SearchEntry.title,
        literal_column("''"),
        literal_column("0.0"),
    )
    return base.with_only_columns(*columns).order_by(SearchEntry.updated_at.desc(), SearchEntry.id).limit(limit)


async def _count(session: AsyncSession, base: Select[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0)


async def _search_sqlite(session: AsyncSession, principal: Principal, parsed: Parsed, limit: int) -> tuple[list[Hit], int]:
    """FTS5: bm25 with the title weighted ten times the body; `snippet()` marks the matched words, for the page only.

    The match is written as `id IN (SELECT rowid … MATCH …)` so SQLite starts from the index's few matches; joined
    the other way it walked every entry of the tenant and ran the match once per entry (0.7 s to count a rare word
    among 100,000, bench/bench_documents.py). Snippets are made for the page's hits, not for every match.
    """
    base = _filtered(select(SearchEntry).where(_visible(principal)), principal, parsed)
    if not parsed.terms:
        return _hits([tuple(row) for row in await session.execute(_newest(base, limit))]), await _count(session, base)
    match = fts5(parsed)
    matching = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :match").bindparams(match=match)
    matched = base.where(SearchEntry.id.in_(matching.columns(rowid=SearchEntry.id.type)))
    ranked = (
        text("SELECT rowid AS id, bm25(search_fts, 10.0, 1.0) AS rank FROM search_fts WHERE search_fts MATCH :match")
        .bindparams(match=match)
        .columns(id=SearchEntry.id.type, rank=Float())
        .subquery("ranked")
    )
    columns = (SearchEntry.id, SearchEntry.document_id, SearchEntry.file_id, SearchEntry.title, ranked.c.rank)
    page = matched.join(ranked, ranked.c.id == SearchEntry.id).with_only_columns(*columns)
    found = list(await session.execute(page.order_by(ranked.c.rank, SearchEntry.id).limit(limit)))
    snippets: dict[int, str] = {}
    if found:
        marked = text(
            "SELECT rowid, snippet(search_fts, 1, :open, :close, '…', :words) FROM search_fts "
            "WHERE search_fts MATCH :match AND rowid IN :ids"
        ).bindparams(
            bindparam("ids", [int(row[0]) for row in found], expanding=True),
            match=match, open=OPEN, close=CLOSE, words=SNIPPET_WORDS,
        )  # fmt: skip
        snippets = {int(rowid): snippet for rowid, snippet in await session.execute(marked)}
    rows = [
        (document_id, file_id, title, snippets.get(int(entry_id), ""), rank)
        for entry_id, document_id, file_id, title, rank in found
    ]
    return _hits(rows, lower_is_better=True), await _count(session, matched)


async def _search_postgresql(session: AsyncSession, principal: Principal, parsed: Parsed, limit: int) -> tuple[list[Hit], int]:
    """tsvector: `ts_rank_cd` over the GIN-indexed column; `ts_headline` only for the page's entries (it rereads the body)."""
    base = _filtered(select(SearchEntry).where(_visible(principal)), principal, parsed)
    if not parsed.terms:
        return _hits([tuple(row) for row in await session.execute(_newest(base, limit))]), await _count(session, base)
    query = func.to_tsquery("simple", bindparam("tsq", tsquery(parsed), type_=String()))
    tsv: Any = literal_column("search_entries.tsv")
    matched = base.where(tsv.op("@@")(query))
    rank = func.ts_rank_cd(tsv, query).label("rank")
    top = matched.with_only_columns(SearchEntry.id, rank).order_by(rank.desc(), SearchEntry.id).limit(limit).subquery("top")
    options = (
        f"StartSel={OPEN}, StopSel={CLOSE}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, ShortWord=2, "
        "MaxFragments=2, FragmentDelimiter=…"
    )
    snippet = func.ts_headline("simple", SearchEntry.body, query, options)
    page = (
        select(SearchEntry.document_id, SearchEntry.file_id, SearchEntry.title, snippet, top.c.rank)
        .join(top, top.c.id == SearchEntry.id)
        .order_by(top.c.rank.desc(), SearchEntry.id)
    )
    rows = [tuple(row) for row in await session.execute(page)]
    return _hits(rows), await _count(session, matched)


def snippet_parts(snippet: str) -> list[dict[str, Any]]:
    """A snippet as plain and matched parts: `[{"text": "…", "match": false}, …]` (the UI marks the matched ones)."""
    parts: list[dict[str, Any]] = []
    for index, piece in enumerate(snippet.replace(CLOSE, OPEN).split(OPEN)):
        if piece:
            parts.append({"text": piece, "match": index % 2 == 1})
    return parts


def _unused(value: datetime) -> None:
    del value
