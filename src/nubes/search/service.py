"""Rules of search: what the index holds (kept in step with documents and files by the indexer), and the
permission-aware query.

The index holds one entry per document (its title, text, notes and vocabulary) and one per other live file (its
name and the text of its content, read without OCR).

A query sees only what its caller may open, inside the query itself: the caller's own documents, and those under a
file or folder its owner shared with the caller or one of their groups (files in the trash are never found). Counts
and facets are computed over that same set, so nothing about anyone else's documents leaks through them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVarTuple

import structlog
from sqlalchemy import Float, Select, String, and_, bindparam, delete, func, literal_column, or_, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.db import utcnow
from nubes.core.principal import Principal
from nubes.core.storage import Storage, StorageError
from nubes.documents.extraction import readers
from nubes.documents.records import service as documents
from nubes.documents.settings import service as document_settings
from nubes.files.tree import service as files
from nubes.ops.flags import service as flags
from nubes.search import snippets
from nubes.search.models import SearchEntry
from nubes.search.query import Parsed, fts5, parse, tsquery

log = structlog.get_logger("nubes.search")

Row = TypeVarTuple("Row")
Kind = Literal["document", "file"]

BATCH = 200
FILE_BATCH = 50
MAX_FILE_BYTES = 20 * 1024 * 1024
"""Plain files larger than this are found by name only (a document's text is read up to its own limits)."""
OCR_FILES_FLAG = "search.ocr_files"
"""The feature flag that makes the indexer OCR a tenant's images and scanned PDFs among plain files."""
DEFAULT_OCR_LANGUAGES = "eng"
"""The languages plain files are OCRed in when the tenant chose none in its documents settings."""
SNIPPET_WORDS = 16
CANDIDATES = 1000
"""How many of a query's matches are ranked: the newest this many the caller may open. A word in thousands of
documents says little about which is best (bm25 scores them nearly alike); the answer says when it ranked only
these, and another word or a filter narrows it."""


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
        .order_by(feed.c.changed_at, feed.c.id)  # the oldest change first: entries are made in the order of their documents
        .limit(limit)
    )
    ids = list(await session.scalars(stale))
    for source in await documents.index_sources(session, ids):
        await _upsert(session, source)
    await session.flush()
    return len(ids)


async def _upsert(session: AsyncSession, source: documents.IndexSource) -> None:
    entry = await session.scalar(
        select(SearchEntry).where(or_(SearchEntry.document_id == source.document_id, SearchEntry.file_id == source.file_id))
    )  # the file's own entry, when it was indexed as a plain file before it became a document, becomes the document's
    if entry is None:
        entry = SearchEntry(tenant_id=source.tenant_id)
        session.add(entry)
    entry.kind, entry.document_id = "document", source.document_id
    entry.owner_id, entry.file_id, entry.title, entry.body = source.owner_id, source.file_id, source.title, source.body
    entry.acl = acl_token(source.owner_id)
    entry.source_changed_at, entry.updated_at = source.changed_at, utcnow()


# --- plain files: their names and the text of their contents -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileSource:
    """A file whose entry is missing or stale, and the change the entry will hold."""

    file_id: uuid.UUID
    tenant_id: uuid.UUID
    owner_id: uuid.UUID
    changed_at: datetime


async def stale_files(session: AsyncSession, *, limit: int = FILE_BATCH) -> list[FileSource]:
    """The next live files (not documents: those are indexed as documents) whose entry is missing or older than
    their last rename, move or content; compared exactly, as documents are."""
    feed = files.content_feed().subquery()
    stale = (
        select(feed.c.id, feed.c.tenant_id, feed.c.owner_id, feed.c.changed_at)
        .outerjoin(SearchEntry, SearchEntry.file_id == feed.c.id)
        .where(
            feed.c.id.not_in(documents.file_ids()),
            or_(SearchEntry.id.is_(None), and_(SearchEntry.kind == "file", SearchEntry.source_changed_at != feed.c.changed_at)),
        )
        .order_by(feed.c.changed_at, feed.c.id)
        .limit(limit)
    )
    return [FileSource(*row) for row in await session.execute(stale)]


async def file_text(storage: Storage, file: files.FileSummary, *, ocr_languages: str | None = None) -> str:
    """The text of a plain file's content, read as documents are but without OCR unless `ocr_languages` are given (text
    files, PDFs' text layer, office files, e-mail); empty for what cannot be read (images without OCR, archives, a
    broken or encrypted PDF) or is too large — the name is indexed all the same."""
    if file.blob_key is None or file.size > MAX_FILE_BYTES:
        return ""
    data = b"".join([chunk async for chunk in storage.get(file.blob_key)])
    try:
        read = await asyncio.to_thread(
            readers.read, data, name=file.name, content_type=file.content_type, languages=ocr_languages or "",
            progress=_ignore, ocr=ocr_languages is not None,
        )  # fmt: skip
    except (readers.Unreadable, readers.OcrFailed):
        return ""
    return read.text


async def ocr_languages_of(session: AsyncSession, tenant_id: uuid.UUID) -> str | None:
    """The languages to OCR a tenant's plain files in when its feature flag `search.ocr_files` is on (None: off)."""
    if not await flags.enabled(session=session, key=OCR_FILES_FLAG, tenant_id=tenant_id):
        return None
    return await document_settings.ocr_languages(session, tenant_id) or DEFAULT_OCR_LANGUAGES


def _ignore(percent: int) -> None:
    del percent


async def store_file(session: AsyncSession, source: FileSource, file: files.FileSummary, text_: str) -> None:
    """Keep what was read of a plain file (unless it became a document meanwhile: its document's entry wins)."""
    entry = await session.scalar(select(SearchEntry).where(SearchEntry.file_id == source.file_id))
    if entry is not None and entry.kind == "document":
        return
    if entry is None:
        entry = SearchEntry(kind="file", document_id=None, tenant_id=source.tenant_id, file_id=source.file_id)
        session.add(entry)
    entry.owner_id, entry.acl = source.owner_id, acl_token(source.owner_id)
    entry.title, entry.body = file.name[:255], text_
    entry.source_changed_at, entry.updated_at = source.changed_at, utcnow()


async def index_files(sessions: async_sessionmaker[AsyncSession], storage: Storage, *, limit: int = FILE_BATCH) -> int:
    """Index the next stale plain files (at most `limit`): found in one transaction, read with none open (a blob
    store may be slow), kept in another. How many."""
    async with sessions() as session:
        sources = await stale_files(session, limit=limit)
        found = {source.file_id: await files.summary(session=session, file_id=source.file_id) for source in sources}
        ocr = {tenant_id: await ocr_languages_of(session, tenant_id) for tenant_id in {source.tenant_id for source in sources}}
        await session.commit()
    texts: dict[uuid.UUID, str] = {}
    for source in sources:
        file = found.get(source.file_id)
        if file is not None:
            try:
                texts[source.file_id] = await file_text(storage, file, ocr_languages=ocr[source.tenant_id])
            except (StorageError, OSError) as exc:  # read again at the next round
                log.warning("search.file_unread", file_id=str(source.file_id), error=f"{type(exc).__name__}: {exc}"[:200])
    async with sessions() as session:
        for source in sources:
            file = found.get(source.file_id)
            if file is not None and source.file_id in texts:
                await store_file(session, source, file, texts[source.file_id])
        await session.commit()
    return len(texts)


async def rebuild(session: AsyncSession) -> None:
    """Start the index over: drop every entry (the indexer then reads every document and file again)."""
    await session.execute(delete(SearchEntry))


async def pending(session: AsyncSession) -> tuple[int, int]:
    """How many live files there are (documents included: each is a file), and how many entries the index holds
    (for progress)."""
    indexed = await session.scalar(select(func.count()).select_from(SearchEntry))
    live = await session.scalar(select(func.count()).select_from(files.content_feed().subquery()))
    return int(live or 0), int(indexed or 0)


# --- the query ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # document | file
    document_id: uuid.UUID | None  # a plain file's hit has none
    file_id: uuid.UUID
    title: str
    snippet: str
    rank: float


@dataclass(frozen=True, slots=True)
class Found:
    """A query's answer: the page of hits, and how many matches the principal may open."""

    hits: list[Hit]
    total: int
    exact: bool  # False: at least `total` (the newest CANDIDATES were ranked, of about `total`)
    ranked: int  # how many matches were ranked to choose the page
    document_ids: list[uuid.UUID]  # the ranked matches' documents (what facets count)


NOTHING = Found(hits=[], total=0, exact=True, ranked=0, document_ids=[])


def _visible(principal: Principal, parsed: Parsed) -> Any:
    """What the principal may find: their own entries, and those under what an owner shared with them; never the trash.
    Only documents' or only files' when the query says so."""
    return and_(
        SearchEntry.tenant_id == principal.tenant_id,
        true() if parsed.kind is None else SearchEntry.kind == parsed.kind,
        or_(SearchEntry.owner_id == principal.user_id, SearchEntry.file_id.in_(files.shared_with(principal))),
        files.is_live(SearchEntry.file_id),
    )


def _filtered(statement: Select[*Row], principal: Principal, parsed: Parsed) -> Select[*Row]:
    matching = documents.matching_filters(principal, parsed.filters)
    return statement if matching is None else statement.where(SearchEntry.document_id.in_(matching))


async def search(session: AsyncSession, principal: Principal, text_query: str, *, limit: int, kind: Kind | None = None) -> Found:
    """The best `limit` matches of `text_query` the principal may open (documents and files, or only `kind`), ranked,
    with a snippet each; and the total."""
    parsed = parse(text_query)
    parsed.kind = kind
    if parsed.empty:
        return NOTHING
    if not parsed.terms:
        return await _search_filters(session, principal, parsed, limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return await _search_postgresql(session, principal, parsed, limit)
    return await _search_sqlite(session, principal, parsed, limit)


async def _search_filters(session: AsyncSession, principal: Principal, parsed: Parsed, limit: int) -> Found:
    """Filters only, no words: the newest entries that pass them."""
    newest = select(SearchEntry.id, SearchEntry.document_id)
    query = (
        _filtered(newest.where(_visible(principal, parsed)), principal, parsed).order_by(SearchEntry.id.desc()).limit(CANDIDATES)
    )
    candidates = [_Candidate(int(entry_id), document_id, 0.0) for entry_id, document_id in await session.execute(query)]
    return await _finish(session, parsed, candidates, limit, _no_estimate)


async def _no_estimate() -> int:
    return 0


def acl_token(user_id: uuid.UUID) -> str:
    """The word an entry of `user_id`'s holds in its `acl`: `o` and the id in hex (one token to both engines)."""
    return f"o{user_id.hex}"


async def _owners(session: AsyncSession, principal: Principal) -> list[uuid.UUID]:
    """The principal and every owner who shared something with them: whose entries a query may find."""
    others = [owner for owner in await session.scalars(files.sharers(principal)) if owner != principal.user_id]
    return [principal.user_id, *others]


class _Candidate(NamedTuple):
    """A match to rank: only what ranking and the facets need (the page's hits are read in full afterwards: reading
    kind, file and title of 1,000 matches to show 20 cost a third of a query)."""

    entry_id: int
    document_id: uuid.UUID | None
    rank: float  # higher is better


async def _finish(
    session: AsyncSession, parsed: Parsed, candidates: list[_Candidate], limit: int, own_estimate: Callable[[], Awaitable[Any]]
) -> Found:
    """The page (best ranks first, ties newest first) with snippets; the total, exact below CANDIDATES."""
    best = sorted(candidates, key=lambda candidate: (-candidate.rank, -candidate.entry_id))[:limit]
    entry = SearchEntry
    read = select(entry.id, entry.kind, entry.document_id, entry.file_id, entry.title, entry.body).where(
        entry.id.in_([candidate.entry_id for candidate in best])
    )
    rows = {row.id: row for row in await session.execute(read)} if best else {}
    hits = [
        Hit(kind=row.kind, document_id=row.document_id, file_id=row.file_id, title=row.title, rank=c.rank,
            snippet=snippets.make(row.body, parsed.terms, words=SNIPPET_WORDS))
        for c in best
        if (row := rows.get(c.entry_id)) is not None  # gone since the scan (its file purged): not a hit
    ]  # fmt: skip
    document_ids = [c.document_id for c in candidates if c.document_id is not None]
    if len(candidates) < CANDIDATES:
        return Found(hits, len(candidates), exact=True, ranked=len(candidates), document_ids=document_ids)
    total = max(CANDIDATES, int(await own_estimate() or 0))
    return Found(hits, total, exact=False, ranked=len(candidates), document_ids=document_ids)


async def _search_sqlite(session: AsyncSession, principal: Principal, parsed: Parsed, limit: int) -> Found:
    """FTS5: the newest CANDIDATES matches the principal may open, each with its bm25 (title ten times the body),
    then the best `limit` of them.

    The MATCH holds the owners' acl words too (the principal's and those of who shared with them), so FTS5 walks
    only their entries, newest first, and stops at CANDIDATES; the permission check runs on each (own or shared,
    file alive). Computing bm25 for every match of a word in all 100,000 documents took 0.2 s; ranking the newest
    thousand takes a few ms (bench/bench_documents.py).
    """
    owners = await _owners(session, principal)
    words = fts5(parsed)
    match = f"{{title body}} : ({words}) AND acl : ({' OR '.join(acl_token(owner) for owner in owners)})"
    scan = (
        text("SELECT rowid AS id, bm25(search_fts, 10.0, 1.0, 0.0) AS rank FROM search_fts WHERE search_fts MATCH :match")
        .bindparams(match=match)
        .columns(id=SearchEntry.id.type, rank=Float())
        .subquery("scan")
    )
    query = (
        _filtered(
            select(SearchEntry.id, SearchEntry.document_id, scan.c.rank)
            .join(SearchEntry, SearchEntry.id == scan.c.id)
            .where(_visible(principal, parsed)),
            principal,
            parsed,
        )
        .order_by(scan.c.id.desc())
        .limit(CANDIDATES)
    )
    rows = await session.execute(query)
    candidates = [_Candidate(int(entry_id), document_id, -float(rank or 0)) for entry_id, document_id, rank in rows]

    async def own_estimate() -> Any:
        if parsed.filters:
            return 0
        own = f"{{title body}} : ({words}) AND acl : {acl_token(principal.user_id)}"
        return await session.scalar(text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :match").bindparams(match=own))

    return await _finish(session, parsed, candidates, limit, own_estimate)


async def _search_postgresql(session: AsyncSession, principal: Principal, parsed: Parsed, limit: int) -> Found:
    """tsvector: the newest CANDIDATES matches the principal may open (the GIN index intersects the words with the
    owners' acl words), then `ts_rank_cd` of those only, and the best `limit`."""
    owners = await _owners(session, principal)
    words = func.to_tsquery("simple", bindparam("tsq", tsquery(parsed), type_=String()))
    among = " | ".join(f"'{acl_token(owner)}'" for owner in owners)
    allowed = func.to_tsquery("simple", bindparam("acl", among, type_=String()))
    tsv: Any = literal_column("search_entries.tsv")
    scan = (
        _filtered(
            select(SearchEntry.id).where(tsv.op("@@")(words.op("&&")(allowed)), _visible(principal, parsed)), principal, parsed
        )
        .order_by(SearchEntry.id.desc())
        .limit(CANDIDATES)
        .subquery("scan")
    )
    rank = func.ts_rank_cd(tsv, words)
    query = select(SearchEntry.id, SearchEntry.document_id, rank).join(scan, scan.c.id == SearchEntry.id)
    rows = await session.execute(query)
    candidates = [_Candidate(int(entry_id), document_id, float(value or 0)) for entry_id, document_id, value in rows]

    async def own_estimate() -> Any:
        """PostgreSQL's own estimate of the principal's matches (its planner's): counting 25,000 matches reads
        every one of their rows (0.3 s), the estimate reads none."""
        if parsed.filters:
            return 0
        plan = await session.scalar(
            text(
                "EXPLAIN (FORMAT JSON) SELECT 1 FROM search_entries "
                "WHERE tsv @@ (to_tsquery('simple', :words) && to_tsquery('simple', :own))"
            ).bindparams(words=tsquery(parsed), own=f"'{acl_token(principal.user_id)}'")
        )
        found = json.loads(plan) if isinstance(plan, str) else plan
        return int(found[0]["Plan"]["Plan Rows"])

    return await _finish(session, parsed, candidates, limit, own_estimate)


def snippet_parts(snippet: str) -> list[dict[str, Any]]:
    """A snippet as plain and matched parts: `[{"text": "…", "match": false}, …]` (the UI marks the matched ones)."""
    parts: list[dict[str, Any]] = []
    for index, piece in enumerate(snippet.replace(snippets.CLOSE, snippets.OPEN).split(snippets.OPEN)):
        if piece:
            parts.append({"text": piece, "match": index % 2 == 1})
    return parts
