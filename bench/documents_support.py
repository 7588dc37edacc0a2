"""What the documents benchmark needs: PDFs made here, a Zipf-like corpus, users of one tenant, and fast seeding.

PDFs are written by hand (as tests/documents/samples.py does, extended to several pages and compressed content
streams, which is what most generators write). The corpus is ~20,000 made-up words drawn with Zipf's law (the
word of rank r with a weight 1/r), so a few words are in every document and most are rare, as in real text.

Seeding goes straight into the running server's database with Nubes' own models and name rules (100,000
documents through the API would take longer than everything measured): the tenant's document types,
correspondents and a tag, then for each document the rows a real one has once its text is read and indexed: its
file, the document, its extraction (done), its search entry (with the body the indexer writes: text, file name,
type, correspondent, tags) and its tag links. SQLite's triggers fill the FTS5 table as the entries go in;
PostgreSQL computes the generated `tsv` column. Each entry holds its document's last change (`source_changed_at`),
as the indexer writes it, so the server's indexer finds nothing to redo while the benchmark measures
(bench_documents.py checks its log).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import random
import re
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bench.files_support import PASSWORD, call_json, root_id
from bench.harness import BenchError, Server, database_url

VOCABULARY = 20_000
BODY_WORDS = 200
POOL_WORDS = 2_000_000
_CONSONANTS = "bcdfghklmnprstvz"
_VOWELS = "aeiou"
_TOKEN = re.compile(r"\w+")

# --- PDFs ----------------------------------------------------------------------------------------------------------


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A PDF of one page per item of `pages`, each with a text layer holding its lines (Helvetica 10 pt, compressed)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        content = zlib.compress(
            ("BT /F1 10 Tf 72 750 Td 14 TL " + " ".join(f"({_escape(line)}) Tj T*" for line in lines) + " ET").encode("latin-1")
        )
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(content), content))
        contents = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font << /F1 3 0 R >> >> >>"
            % contents
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def scanned_pdf(lines: Sequence[str], *, dpi: int = 200) -> bytes:
    """A letter-size page image of `lines` in black type and no text layer, as a scanner at `dpi` makes it."""
    width, height = int(8.5 * dpi), 11 * dpi
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=dpi // 7)  # ~10 pt type
    for index, line in enumerate(lines):
        draw.text((dpi, dpi + index * dpi // 4), line, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


def words_of(text_: str) -> list[str]:
    """The words of a text, lowercased, as both engines' tokenizers and pdftotext's output are compared."""
    return _TOKEN.findall(text_.lower())


# --- the corpus ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """Made-up words by rank (the shortest most frequent), and Zipf's cumulative weights to draw them with."""

    words: list[str]
    cum_weights: list[float]

    @classmethod
    def make(cls, rng: random.Random, size: int = VOCABULARY) -> Corpus:
        """`size` distinct consonant-vowel words of 2 to 4 syllables, shortest first (frequent words are short)."""
        seen: set[str] = set()
        while len(seen) < size:
            syllables = rng.choice((2, 2, 3, 3, 3, 4))
            seen.add("".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables)))
        words = sorted(seen)
        rng.shuffle(words)
        words.sort(key=len)  # stable: ranks are random within a length
        return cls(words=words, cum_weights=list(itertools.accumulate(1 / rank for rank in range(1, size + 1))))

    def draw(self, rng: random.Random, count: int) -> list[str]:
        """`count` words drawn by their Zipf weights."""
        return rng.choices(self.words, cum_weights=self.cum_weights, k=count)

    def lines(self, rng: random.Random, count: int, width: int = 80) -> list[str]:
        """`count` lines of drawn words, each about `width` characters."""
        result = []
        for _ in range(count):
            line: list[str] = []
            length = 0
            while length < width:
                line.append(self.draw(rng, 1)[0])
                length += len(line[-1]) + 1
            result.append(" ".join(line))
        return result


# --- users of one tenant -------------------------------------------------------------------------------------------

_JSON = {"Content-Type": "application/json"}


@dataclass
class Member:
    """A user of the benchmark's tenant: their token and root folder."""

    username: str
    token: str
    root_id: str


def add_members(server: Server, admin_token: str, usernames: Sequence[str]) -> list[Member]:
    """Create each user (role member) through the admin API, sign them in, and find their root folder."""
    members = []
    for username in usernames:
        body = json.dumps({"username": username, "password": PASSWORD, "roles": ["member"]}).encode()
        call_json(server, "POST", "/api/admin/users", expect=201, token=admin_token, body=body, headers=_JSON)
        login = json.dumps({"username": username, "password": PASSWORD}).encode()
        token: str = call_json(server, "POST", "/api/auth/login", body=login, headers=_JSON)["access_token"]
        members.append(Member(username=username, token=token, root_id=root_id(server, token)))
    return members


# --- seeding -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabularies:
    """The tenant's terms the seeded documents use: names by id."""

    types: dict[uuid.UUID, str]
    correspondents: dict[uuid.UUID, str]
    tags: dict[uuid.UUID, str]


@dataclass(frozen=True)
class SeedPlan:
    """What to seed: `count` documents spread evenly over `members`, in batches of `batch` (one transaction each).

    `queries` maps a name to a predicate over a document's set of words; the documents of the member named
    `measured` that each matches are counted (what the search must answer as its total).
    """

    members: Sequence[Member]
    corpus: Corpus
    count: int
    queries: dict[str, Callable[[set[str]], bool]]
    measured: str
    types: tuple[str, ...] = ("Invoice", "Contract", "Payslip", "Receipt")
    correspondents: tuple[str, ...] = ("Acme Corporation", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries")
    tag: str = "paid"
    tag_share: float = 0.1  # of each user's documents
    batch: int = 5_000


@dataclass
class Seeded:
    """What was seeded, how long it took, and what the measured user's queries must find."""

    documents: int = 0
    tag_id: str = ""
    seconds: float = 0.0  # inserting (the index filled as the rows go in), commits included
    generate_seconds: float = 0.0  # making the rows in Python
    vacuum_seconds: float = 0.0  # PostgreSQL: VACUUM (ANALYZE) of the seeded tables
    table_seconds: dict[str, float] = field(default_factory=dict)  # of `seconds`: each table's inserts, and the commits
    owned: dict[str, int] = field(default_factory=dict)  # per username: documents
    tagged: dict[str, int] = field(default_factory=dict)  # per username: documents with the measured tag
    found: dict[str, int] = field(default_factory=dict)  # per query name: the measured user's documents matching


@dataclass(frozen=True)
class _Owner:
    """Where a user's seeded documents go."""

    username: str
    root_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID


@dataclass
class _Batch:
    """The rows of one batch of documents, by table."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    contents: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)


def seed_documents(workdir: Path, plan: SeedPlan, rng: random.Random) -> Seeded:
    """Insert the plan's documents into the database of the server started on `workdir`."""
    return asyncio.run(_seed(workdir, plan, rng))


def _slice(pool: list[str], rng: random.Random, count: int) -> list[str]:
    """`count` consecutive words of the pool from a random place."""
    start = rng.randrange(len(pool) - count)
    return pool[start : start + count]


def _add_document(
    plan: SeedPlan,
    rng: random.Random,
    batch: _Batch,
    *,
    pool: list[str],
    terms: Vocabularies,
    index: int,
    at: datetime,
    owner: _Owner,
) -> tuple[bool, str]:
    """Add the rows of document `index` to `batch`: a file in its owner's root folder, the document, its extraction
    (done), its search entry and its tag link; whether it has the tag, and the words the index holds of it.

    Its words are a run of the pool, drawn once with Zipf's weights: drawing 20 million words one by one would
    take longer than inserting them (each word of the pool is in ~10 documents, in other company each time)."""
    from nubes.files.tree import names as name_rules  # noqa: PLC0415 - the app's modules load only for the benchmarks that seed

    title = " ".join([*_slice(pool, rng, 3), f"{index:06d}"])
    name = name_rules.normalize(f"{title}.pdf")
    body_text = " ".join(_slice(pool, rng, BODY_WORDS))
    kind = rng.choice([None, *terms.types.items()])
    person = rng.choice([None, *terms.correspondents.items()])
    tagged = rng.random() < plan.tag_share
    tag_id, tag_name = next(iter(terms.tags.items()))
    file_id, document_id, sha256 = uuid.uuid4(), uuid.uuid4(), f"{index:064x}"
    common = {"tenant_id": owner.tenant_id}
    batch.nodes.append(
        {
            **common, "id": file_id, "owner_id": owner.user_id, "parent_id": owner.root_id, "kind": "file", "name": name,
            "name_key": name_rules.clash_key(name), "size": 48_000, "content_type": "application/pdf", "blob_key": None,
            "sha256": sha256, "version_no": 1, "created_at": at, "updated_at": at, "created_by": owner.user_id,
            "trashed_at": None, "in_trash": False,
        }
    )  # fmt: skip
    batch.documents.append(
        {
            **common, "id": document_id, "file_id": file_id, "owner_id": owner.user_id, "title": title,
            "type_id": kind[0] if kind else None, "correspondent_id": person[0] if person else None,
            "archive_serial": None, "created_on": None, "notes": "", "added_at": at, "modified_at": at,
        }
    )  # fmt: skip
    batch.contents.append(
        {
            **common, "document_id": document_id, "source_sha256": sha256, "state": "done", "attempts": 1,
            "next_attempt_at": at, "progress": 100, "method": "text-layer", "pages": 1, "text": body_text, "error": None,
            "updated_at": at,
        }
    )  # fmt: skip
    # The body as records.service.index_sources builds it (text, notes, file name, type, correspondent, tags,
    # categories, the empty ones left out), the acl as search.service.acl_token.
    parts = [body_text, name, kind[1] if kind else "", person[1] if person else "", tag_name if tagged else ""]
    body = "\n".join(part for part in parts if part)
    batch.entries.append(
        {
            **common, "owner_id": owner.user_id, "document_id": document_id, "file_id": file_id, "title": title,
            "body": body, "acl": f"o{owner.user_id.hex}", "source_changed_at": at, "updated_at": at,
        }
    )  # fmt: skip
    if tagged:
        batch.tags.append({"document_id": document_id, "tag_id": tag_id})
    return tagged, f"{title} {body}"


async def _seed(workdir: Path, plan: SeedPlan, rng: random.Random) -> Seeded:
    import nubes.models  # noqa: F401, PLC0415 - every table, so foreign-key columns know their types (UUIDs)
    from nubes.core.db import utcnow  # noqa: PLC0415 - the app's modules load only for the benchmarks that seed
    from nubes.files.tree.models import FileNode  # noqa: PLC0415

    url = database_url(workdir)
    engine = create_async_engine(url, connect_args={"timeout": 60} if url.startswith("sqlite") else {})
    seeded = Seeded(found=dict.fromkeys(plan.queries, 0))
    try:
        owners = []
        async with engine.connect() as connection:
            for member in plan.members:
                root = uuid.UUID(member.root_id)
                row = (await connection.execute(select(FileNode.tenant_id, FileNode.owner_id).where(FileNode.id == root))).one()
                owners.append(_Owner(member.username, root, row.tenant_id, row.owner_id))
        first = utcnow() - timedelta(seconds=plan.count + 60)  # one document a second, the last a minute ago
        async with engine.begin() as connection:
            terms = await _add_vocabularies(connection, owners[0].tenant_id, plan)
        seeded.tag_id = str(next(iter(terms.tags)))
        began = time.perf_counter()
        pool = plan.corpus.draw(rng, POOL_WORDS)
        seeded.generate_seconds += time.perf_counter() - began
        seeded.owned = dict.fromkeys((owner.username for owner in owners), 0)
        seeded.tagged = dict(seeded.owned)
        for start in range(0, plan.count, plan.batch):
            began = time.perf_counter()
            batch = _Batch()
            for index in range(start, min(start + plan.batch, plan.count)):
                owner = owners[index % len(owners)]  # interleaved, as several users' documents arrive
                tagged, words = _add_document(
                    plan, rng, batch, pool=pool, terms=terms, index=index, at=first + timedelta(seconds=index), owner=owner
                )
                seeded.owned[owner.username] += 1
                seeded.tagged[owner.username] += tagged
                if owner.username == plan.measured:
                    found = set(words_of(words))
                    for query, matches in plan.queries.items():
                        seeded.found[query] += matches(found)
            seeded.generate_seconds += time.perf_counter() - began
            await _insert(engine, batch, seeded.table_seconds)
            seeded.documents += len(batch.documents)
        if not url.startswith("sqlite"):
            seeded.vacuum_seconds = await _vacuum(engine)
    finally:
        await engine.dispose()
    seeded.seconds = sum(seeded.table_seconds.values())
    if seeded.documents != plan.count:
        raise BenchError(f"seeded {seeded.documents} documents, not {plan.count}")
    return seeded


async def _add_vocabularies(connection: AsyncConnection, tenant_id: uuid.UUID, plan: SeedPlan) -> Vocabularies:
    """The plan's document types, correspondents and tag in the tenant (rows as the vocabulary service writes them)."""
    from nubes.documents.vocabulary.models import Correspondent, DocumentType, Tag  # noqa: PLC0415
    from nubes.documents.vocabulary.service import name_key  # noqa: PLC0415

    terms = Vocabularies(
        types={uuid.uuid4(): name for name in plan.types},
        correspondents={uuid.uuid4(): name for name in plan.correspondents},
        tags={uuid.uuid4(): plan.tag},
    )
    for model, named in ((DocumentType, terms.types), (Correspondent, terms.correspondents), (Tag, terms.tags)):
        rows = [
            {"id": term_id, "tenant_id": tenant_id, "name": name, "name_key": name_key(name)} for term_id, name in named.items()
        ]
        await connection.execute(insert(model), rows)
    return terms


async def _insert(engine: AsyncEngine, batch: _Batch, seconds: dict[str, float]) -> None:
    """Insert one batch in one transaction, adding the seconds each table took to `seconds` (the commit's: "commit")."""
    from nubes.documents.extraction.models import DocumentContent  # noqa: PLC0415
    from nubes.documents.records.models import Document, DocumentTag  # noqa: PLC0415
    from nubes.files.tree.models import FileNode  # noqa: PLC0415
    from nubes.search.models import SearchEntry  # noqa: PLC0415

    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (FileNode, batch.nodes),
        (Document, batch.documents),
        (DocumentContent, batch.contents),
        (SearchEntry, batch.entries),
        (DocumentTag, batch.tags),
    ]
    async with engine.connect() as connection:
        for model, rows in tables:
            began = time.perf_counter()
            if rows:
                await connection.execute(insert(model), rows)
            seconds[model.__tablename__] = seconds.get(model.__tablename__, 0.0) + time.perf_counter() - began
        began = time.perf_counter()
        await connection.commit()
        seconds["commit"] = seconds.get("commit", 0.0) + time.perf_counter() - began


async def _vacuum(engine: AsyncEngine) -> float:
    """PostgreSQL: what autovacuum does within a minute of a bulk load on a live install (the planner's statistics, the
    visibility map, GIN's pending list merged into the index), done now so that it does not run mid-measurement."""
    began = time.perf_counter()
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("file_nodes", "documents", "document_contents", "search_entries", "document_tag_links"):
            await autocommit.execute(text(f"VACUUM (ANALYZE) {table}"))
    return time.perf_counter() - began
