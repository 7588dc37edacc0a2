"""Documents through the whole pipeline: 10,000 PDFs uploaded to a real server, read by its extraction jobs and
indexed for search, against `pdftotext` reading the same files.

`documents_pipeline_docs_per_s`: a fresh server (the current variant's engine; its workers in the same process, as
the embedded default runs them) and one user; 10,000 one-page text PDFs (~200 words each, distinct) are uploaded
through `POST /api/documents/upload` by 8 clients at once; the clock stops when every document's extraction is done
and every one has its search entry (read from the server's database every half second). Baseline: Debian's
`pdftotext` run once per file, one file after the other, on the same files. Documents (= pages) per second, ratio =
Nubes / pdftotext. One round: the run takes minutes, and its spread shows in the split (upload, extraction, index).
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.documents_support import Corpus, add_members, text_pdf
from bench.files_support import signed_in_nubes
from bench.harness import BenchError, Options, Result, Server, database_url

DOCUMENTS = 10_000
CLIENTS = 8
LINES = 30  # ~200 words: one page
POLL_S = 0.5
GIVE_UP_S = 1800.0  # the pipeline is stuck, not slow


def run(options: Options, workdir: Path) -> Result:
    """Make the files, run them through a fresh server, then through pdftotext."""
    del options  # one round (see the module's docstring)
    rng = random.Random(17)  # noqa: S311 - the same files in every run, nothing secret
    corpus = Corpus.make(rng)
    folder = workdir / "pipeline-pdfs"
    folder.mkdir()
    files = []
    for index in range(DOCUMENTS):
        path = folder / f"letter-{index:05d}.pdf"
        path.write_bytes(text_pdf([[f"letter {index:05d}", *corpus.lines(rng, LINES)]]))
        files.append(path)
    server_dir = workdir / "pipeline-server"
    server_dir.mkdir()
    with signed_in_nubes(server_dir) as (server, admin):
        (member,) = add_members(server, admin, ["erin"])
        split = asyncio.run(_through_nubes(server, member.token, database_url(server_dir), files))
    began = time.perf_counter()
    for path in files:
        done = subprocess.run(["/usr/bin/pdftotext", "-q", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=False)
        if done.returncode != 0:
            raise BenchError(f"pdftotext failed on {path.name}: {done.stderr.decode(errors='replace')[-300:]}")
    baseline = DOCUMENTS / (time.perf_counter() - began)
    nubes = DOCUMENTS / split["indexed_s"]
    print(f"documents: pipeline {nubes:.1f} documents/s (pdftotext {baseline:.1f} files/s); {split}", file=sys.stderr)
    return {
        "benchmark": "documents_pipeline_docs_per_s",
        "unit": "documents/s (one page each)",
        "what": f"{DOCUMENTS:,} one-page text PDFs uploaded by {CLIENTS} clients, extracted and indexed by the server",
        "nubes": round(nubes, 1),
        "baseline": round(baseline, 1),
        "baseline_is": "pdftotext (poppler-utils), one process per file, one after the other",
        "ratio": round(nubes / baseline, 3),
        "rounds": 1,
        **{name: round(seconds, 1) for name, seconds in split.items()},
    }


async def _through_nubes(server: Server, token: str, url: str, files: list[Path]) -> dict[str, float]:
    """Upload every file (CLIENTS at once), then wait for their extraction and their search entries; the times."""
    engine = create_async_engine(url, connect_args={"timeout": 60} if url.startswith("sqlite") else {})
    queue = list(reversed(files))
    began = time.perf_counter()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=server.url(""), headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
            while queue:
                path = queue.pop()
                answer = await http.post(
                    "/api/documents/upload", files={"file": (path.name, path.read_bytes(), "application/pdf")}
                )
                if answer.status_code != 201:
                    raise BenchError(f"upload of {path.name} answered {answer.status_code}: {answer.text[:300]}")

    try:
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        uploaded = time.perf_counter() - began
        extracted = indexed = 0.0
        while time.perf_counter() - began < GIVE_UP_S:
            async with engine.connect() as connection:
                done = await connection.scalar(text("SELECT count(*) FROM document_contents WHERE state IN ('done', 'failed')"))
                failed = await connection.scalar(text("SELECT count(*) FROM document_contents WHERE state = 'failed'"))
                entries = await connection.scalar(text("SELECT count(*) FROM search_entries WHERE kind = 'document'"))
            if failed:
                raise BenchError(f"{failed} of the pipeline's documents failed their extraction")
            if done == len(files) and not extracted:
                extracted = time.perf_counter() - began
            if entries == len(files):
                indexed = time.perf_counter() - began
                extracted = extracted or indexed
                break
            await asyncio.sleep(POLL_S)
        else:
            raise BenchError(f"the pipeline did not finish within {GIVE_UP_S:.0f} s ({done} extracted, {entries} indexed)")
    finally:
        await engine.dispose()
    return {"uploaded_s": uploaded, "extracted_s": extracted, "indexed_s": indexed}
