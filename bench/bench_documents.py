"""Documents: reading PDFs' text, full-text search over 100,000 documents, and the documents list, each against a
baseline measured in the same run.

- `documents_extraction_pages_per_s`: 200 five-page text PDFs read by Nubes' reader (`extraction.readers.read`,
  in-process, one file after the other, as the extraction worker's thread calls it) against Debian's `pdftotext`
  (poppler) run on the same files one after the other; pages/s, ratio = Nubes / pdftotext. Both must give the
  same words. `documents_ocr_pages_per_s`: one scanned page (200 dpi, no text layer) read by Nubes (rendered at
  300 dpi, tesseract) against `pdftoppm -r 300 -gray | tesseract` of the same file. The reader touches no
  database, so these two run once per `bench/run.py` run, with the first engine.
- `documents_pipeline_docs_per_s`: 10,000 PDFs uploaded, extracted and indexed by a real server, against
  `pdftotext` on the same files (bench/documents_pipeline.py), with the first engine (a run takes minutes).
- `search_query_latency`: 100,000 documents of four users of one tenant (25,000 each, ~200 words of a Zipf-like
  vocabulary of 20,000 words each; bench/documents_support.py) seeded straight into the server's database, then
  `GET /api/search?q=` as one of them for a rare word, the most common word (in every document), two words and a
  prefix, with one client back to back (`wrk -c1`) and with 8 (`wrk -c8`), against `GET /api/health` on the same
  server in the same rounds. Target (issue): p99 < 50 ms. `ratio` = health p50 / search p50 (as files_search). A
  query whose first answer takes over a fifth of a run is timed here, one request after the other (wrk drops the
  request still running when a run ends), and is left out with 8 clients when 8 answers do not fit in half a run.
- `documents_list_ratio`: `GET /api/documents?limit=50` of that user (25,000 documents) and the same filtered by a
  tag ~10% of them have, `wrk -c32`, requests/s as a ratio to `GET /api/health` in the same rounds.
"""

from __future__ import annotations

import contextlib
import math
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from bench import documents_pipeline
from bench.documents_support import (
    Corpus,
    Member,
    Seeded,
    SeedPlan,
    add_members,
    scanned_pdf,
    seed_documents,
    text_pdf,
    words_of,
)
from bench.files_support import call, call_json, signed_in_nubes
from bench.harness import (
    CONNECTIONS,
    WARMUP_S,
    BenchError,
    Options,
    Result,
    Server,
    WrkRun,
    current_variant,
    load_generator,
    median,
    wrk,
)

FILES = 200
PAGES = 5
LINES_PER_PAGE = 48
OCR_ROUNDS = 2  # a page takes seconds; two rounds of each side are enough to see the spread
DOCUMENTS = 100_000
USERS = ("alice", "bob", "carol", "dave")
MEASURED = USERS[0]
TAG_SHARE = 0.1
TARGET_P99_MS = 50.0
CONCURRENT = 8
LIST_PAGE = 50
TIMEOUT_S = 30  # a slow query is a figure, not an error
MAX_LIST_RUN_S = 20
# Ranks in the vocabulary (0: the most frequent word): rare (in ~0.2% of documents), the most common (in every one),
# two mid-frequency words (~1% of documents have both), and the first 3 letters of a less common one (~7%).
RARE_RANK, COMMON_RANK, PAIR_RANKS, PREFIX_RANK = 15_000, 0, (100, 300), 1_000


def run(options: Options) -> list[Result]:
    """Extraction (first engine only), then one server: seed, check the answers, measure search, then the list."""
    results: list[Result] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        if current_variant().engine == options.engines[0]:
            results += _extraction(options, workdir)
            results.append(documents_pipeline.run(options, workdir))
        server, admin = stack.enter_context(signed_in_nubes(workdir))
        members = add_members(server, admin, USERS)
        rng = random.Random(11)  # noqa: S311 - the same corpus in every run, nothing secret
        corpus = Corpus.make(rng)
        words = corpus.words
        prefix = words[PREFIX_RANK][:3]
        queries: dict[str, tuple[str, Callable[[set[str]], bool]]] = {
            "rare": (words[RARE_RANK], lambda found: words[RARE_RANK] in found),
            "common": (words[COMMON_RANK], lambda found: words[COMMON_RANK] in found),
            "two_words": (
                f"{words[PAIR_RANKS[0]]} {words[PAIR_RANKS[1]]}",
                lambda found: words[PAIR_RANKS[0]] in found and words[PAIR_RANKS[1]] in found,
            ),
            "prefix": (f"{prefix}*", lambda found: any(word.startswith(prefix) for word in found)),
        }
        print(f"documents: seeding {DOCUMENTS:,} documents", file=sys.stderr)
        plan = SeedPlan(
            members=members,
            corpus=corpus,
            count=DOCUMENTS,
            queries={name: matches for name, (_, matches) in queries.items()},
            measured=MEASURED,
            tag_share=TAG_SHARE,
        )
        seeded = seed_documents(workdir, plan, rng)
        print(
            f"documents: seeded in {seeded.seconds:.1f} s (+ {seeded.generate_seconds:.1f} s generating,"
            f" {seeded.vacuum_seconds:.1f} s VACUUM ANALYZE)",
            file=sys.stderr,
        )
        user = members[0]
        results += _search(options, server, user, {name: q for name, (q, _) in queries.items()}, seeded)
        results += _listing(options, server, user, seeded)
        indexed = server.log_path.read_text(errors="replace").count('"search.indexed"')
        if indexed:
            raise BenchError(
                f"the server's indexer reindexed documents {indexed} times while measured (the seeded entries looked stale)"
            )
    return results


# --- extraction ----------------------------------------------------------------------------------------------------


def _ignore(percent: int) -> None:
    del percent


def _nubes_read(path: Path) -> tuple[str, int]:
    from nubes.documents.extraction.readers import read  # noqa: PLC0415 - the app's modules load only when measured

    extracted = read(path.read_bytes(), name=path.name, content_type="application/pdf", languages="eng", progress=_ignore)
    return extracted.text, extracted.pages


def _pdftotext(path: Path) -> str:
    done = subprocess.run(["/usr/bin/pdftotext", "-q", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"pdftotext failed on {path.name}: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout.decode("utf-8", errors="replace")


def _ocr_baseline(path: Path) -> str:
    """What Nubes does for a scan, with Debian's tools: render the page at 300 dpi in grey, then tesseract."""
    render = subprocess.run(["/usr/bin/pdftoppm", "-r", "300", "-gray", "-png", str(path)], capture_output=True, check=False)
    if render.returncode != 0:
        raise BenchError(f"pdftoppm failed: {render.stderr.decode(errors='replace')[-300:]}")
    tesseract = shutil.which("tesseract") or "tesseract"
    done = subprocess.run([tesseract, "stdin", "stdout", "-l", "eng"], input=render.stdout, capture_output=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"tesseract failed: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout.decode("utf-8", errors="replace")


def _timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def _extraction(options: Options, workdir: Path) -> list[Result]:
    """Text layers against pdftotext, then (when tesseract is installed) one scanned page against poppler + tesseract."""
    for tool in ("/usr/bin/pdftotext", "/usr/bin/pdftoppm"):
        if not Path(tool).is_file():
            raise BenchError(f"{tool} not found; run `make bench`, which installs poppler-utils")
    rng = random.Random(5)  # noqa: S311 - the same files in every run
    corpus = Corpus.make(rng)
    folder = workdir / "pdfs"
    folder.mkdir()
    results = [_text_layers(options, folder, corpus, rng)]
    if shutil.which("tesseract") is None:
        print("documents: no tesseract, so no OCR figure (Debian: apt install tesseract-ocr)", file=sys.stderr)
    else:
        results.append(_ocr(folder, corpus, rng))
    return results


def _text_layers(options: Options, folder: Path, corpus: Corpus, rng: random.Random) -> Result:
    """Make the PDFs, check both readers give the same words, then alternate passes over all files."""
    files = []
    for index in range(FILES):
        path = folder / f"document-{index:03d}.pdf"
        path.write_bytes(text_pdf([corpus.lines(rng, LINES_PER_PAGE) for _ in range(PAGES)]))
        files.append(path)
    nubes_text, pages = _nubes_read(files[0])
    words = words_of(nubes_text)
    if pages != PAGES or words != words_of(_pdftotext(files[0])):
        raise BenchError(f"Nubes' reader and pdftotext read different words from {files[0].name} ({pages} pages)")
    passes: dict[str, Callable[[], object]] = {
        "nubes": lambda: [_nubes_read(path) for path in files],
        "pdftotext": lambda: [_pdftotext(path) for path in files],
    }
    for path in files[:10]:  # warm-up: the libraries loaded, the files in the page cache
        _nubes_read(path)
        _pdftotext(path)
    rates: dict[str, list[float]] = {name: [] for name in passes}
    for round_index in range(options.rounds):
        for name in passes if round_index % 2 == 0 else list(passes)[::-1]:
            rates[name].append(FILES * PAGES / _timed(passes[name]))
            print(f"documents: round {round_index + 1}/{options.rounds} {name:9} {rates[name][-1]:7.1f} pages/s", file=sys.stderr)
    nubes, baseline = median(rates["nubes"]), median(rates["pdftotext"])
    return {
        "benchmark": "documents_extraction_pages_per_s",
        "unit": "pages/s",
        "what": f"{FILES} text PDFs of {PAGES} pages ({len(words) // PAGES} words a page), one file after the other",
        "nubes": nubes,
        "baseline": baseline,
        "baseline_is": "pdftotext (poppler-utils), one process per file",
        "ratio": _ratio(nubes, baseline),
        "rounds": options.rounds,
        "nubes_runs": [round(rate, 1) for rate in rates["nubes"]],
        "baseline_runs": [round(rate, 1) for rate in rates["pdftotext"]],
    }


def _ocr(folder: Path, corpus: Corpus, rng: random.Random) -> Result:
    """One scanned page read by Nubes and by pdftoppm + tesseract, in alternating rounds; both must read its words."""
    scan = folder / "scan.pdf"
    lines = corpus.lines(rng, 30, width=60)
    scan.write_bytes(scanned_pdf(lines))
    expected = set(words_of(" ".join(lines)))
    rates: dict[str, list[float]] = {"nubes": [], "baseline": []}
    recall: dict[str, float] = {}
    for round_index in range(OCR_ROUNDS):
        for name in ("nubes", "baseline") if round_index % 2 == 0 else ("baseline", "nubes"):
            began = time.perf_counter()
            read_text = _nubes_read(scan)[0] if name == "nubes" else _ocr_baseline(scan)
            rates[name].append(1 / (time.perf_counter() - began))
            recall[name] = len(expected & set(words_of(read_text))) / len(expected)
            print(
                f"documents: OCR round {round_index + 1}/{OCR_ROUNDS} {name:9} {1 / rates[name][-1]:6.2f} s a page",
                file=sys.stderr,
            )
    if min(recall.values()) < 0.5:
        raise BenchError(f"OCR read too few of the page's words: {recall}")
    nubes, baseline = median(rates["nubes"], 4), median(rates["baseline"], 4)
    return {
        "benchmark": "documents_ocr_pages_per_s",
        "unit": "pages/s",
        "what": "one scanned letter page (200 dpi, 30 lines, no text layer)",
        "nubes": nubes,
        "baseline": baseline,
        "baseline_is": "pdftoppm -r 300 -gray | tesseract -l eng",
        "ratio": _ratio(nubes, baseline),
        "nubes_word_recall": round(recall["nubes"], 3),
        "baseline_word_recall": round(recall["baseline"], 3),
        "rounds": OCR_ROUNDS,
        "nubes_runs": [round(rate, 4) for rate in rates["nubes"]],
        "baseline_runs": [round(rate, 4) for rate in rates["baseline"]],
    }


def _ratio(nubes: float, baseline: float) -> float:
    """nubes / baseline to three significant figures (a search 1,000 times slower than health is 0.001, not 0.0)."""
    return float(f"{nubes / baseline:.3g}")


# --- search --------------------------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime, stime in clock ticks (USER_HZ = 100 on Linux)


def _timed_requests(server: Server, path: str, token: str, duration_s: int) -> WrkRun:
    """Requests one after the other for `duration_s` (at least one), timed here: for a query too slow for wrk's runs
    (which drop a request still running when they end). p50 is the median; p99, of so few, is the slowest."""
    latencies: list[float] = []
    began = time.perf_counter()
    while not latencies or time.perf_counter() - began < duration_s:
        start = time.perf_counter()
        status, body = call(server, "GET", path, token=token, timeout=TIMEOUT_S * 10)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}: {body[:200]!r}")
        latencies.append((time.perf_counter() - start) * 1000)
    elapsed = time.perf_counter() - began
    return WrkRun(
        requests_per_s=len(latencies) / elapsed,
        requests=len(latencies),
        p50_ms=statistics.median(latencies),
        p99_ms=max(latencies),
    )


def _search(options: Options, server: Server, user: Member, queries: dict[str, str], seeded: Seeded) -> list[Result]:
    """Check each query's total, then rounds of runs (one client, then 8) over health and the four queries.

    A query whose first answer took more than a fifth of a run is timed here instead of by wrk (whose runs drop the
    request still running when they end), one request after the other; with 8 clients it is left out when 8 answers
    would not fit in half a run (they would only queue)."""
    endpoints = {"health": "/api/health", **{name: f"/api/search?q={quote(q)}" for name, q in queries.items()}}
    probe_s: dict[str, float] = {"health": 0.0}
    for name, q in queries.items():
        began = time.perf_counter()
        answer = call_json(server, "GET", endpoints[name], token=user.token, timeout=TIMEOUT_S * 10)
        probe_s[name] = time.perf_counter() - began
        expected = seeded.found[name]
        # Past the ranked matches (1,000) the total is an estimate (search.service): the answer must say so.
        exact = answer["total_exact"]
        right = answer["total"] == expected if exact else expected > answer["ranked"] and answer["total"] >= answer["ranked"]
        if not right or len(answer["items"]) != min(20, expected):
            raise BenchError(f"search {q!r} found {answer['total']} documents (exact: {exact}), {expected} expected")
        print(
            f"documents: search {name:9} {q!r}: {answer['total']} found{'' if exact else ' (estimated)'},"
            f" {expected} seeded, {probe_s[name] * 1000:.0f} ms",
            file=sys.stderr,
        )
    by_wrk = {name for name, seconds in probe_s.items() if seconds < options.duration_s / 5}
    concurrent = {name for name, seconds in probe_s.items() if seconds * CONCURRENT < options.duration_s / 2}
    auth = {"Authorization": f"Bearer {user.token}"}
    for name in by_wrk:
        if probe_s[name] < WARMUP_S / 5:  # the slower ones were warmed by their check
            wrk(server, endpoints[name], WARMUP_S, connections=1, headers=auth, timeout_s=TIMEOUT_S)
    modes = {"sequential": 1, "concurrent": CONCURRENT}
    runs: dict[tuple[str, str], list[WrkRun]] = {(mode, name): [] for mode in modes for name in endpoints}
    cpu_ms: dict[str, list[float]] = {name: [] for name in endpoints}
    for round_index in range(options.rounds):
        for mode, connections in modes.items():
            for name in list(endpoints) if round_index % 2 == 0 else list(endpoints)[::-1]:
                if mode == "concurrent" and name not in concurrent:
                    continue
                before = _cpu_seconds(server.process.pid)
                if name in by_wrk:
                    measured = wrk(
                        server, endpoints[name], options.duration_s, connections=connections, headers=auth, timeout_s=TIMEOUT_S
                    )
                else:
                    measured = _timed_requests(server, endpoints[name], user.token, options.duration_s)
                if mode == "sequential":
                    cpu_ms[name].append((_cpu_seconds(server.process.pid) - before) * 1000 / measured.requests)
                runs[mode, name].append(measured)
                print(
                    f"documents: round {round_index + 1}/{options.rounds} {mode:10} {name:9} p50 {measured.p50_ms:8.2f} ms"
                    f"  p99 {measured.p99_ms:8.2f} ms  {measured.requests_per_s:7.1f} req/s",
                    file=sys.stderr,
                )

    def p(mode: str, name: str, which: str) -> float | None:
        if not runs[mode, name]:
            return None
        return median([getattr(r, f"{which}_ms") for r in runs[mode, name]], 2)

    health_p50, health_concurrent_p50 = p("sequential", "health", "p50") or 0.0, p("concurrent", "health", "p50") or 0.0
    results: list[Result] = []
    for name, q in queries.items():
        p50, p99 = p("sequential", name, "p50") or 0.0, p("sequential", name, "p99") or 0.0
        concurrent_p50, concurrent_p99 = p("concurrent", name, "p50"), p("concurrent", name, "p99")
        results.append(
            {
                "benchmark": "search_query_latency",
                "unit": "ms",
                "query": name,
                "q": q,
                "found": seeded.found[name],
                "nubes_p50_ms": p50,
                "nubes_p99_ms": p99,
                "concurrent_p50_ms": concurrent_p50,
                "concurrent_p99_ms": concurrent_p99,
                "concurrent_rps": median([r.requests_per_s for r in runs["concurrent", name]]) if concurrent_p50 else None,
                "baseline_p50_ms": health_p50,
                "baseline_p99_ms": p("sequential", "health", "p99"),
                "baseline_concurrent_p50_ms": health_concurrent_p50,
                "baseline_concurrent_p99_ms": p("concurrent", "health", "p99"),
                "baseline_is": "GET /api/health, same server",
                "ratio": _ratio(health_p50, p50),
                "concurrent_ratio": _ratio(health_concurrent_p50, concurrent_p50) if concurrent_p50 else None,
                "target_p99_ms": TARGET_P99_MS,
                "meets_target": p99 < TARGET_P99_MS,
                "concurrent_meets_target": concurrent_p99 < TARGET_P99_MS if concurrent_p99 is not None else False,
                "measured_with": "wrk -t1 -c1" if name in by_wrk else "timed requests one after the other (p99: the slowest)",
                "concurrent_skipped": None if name in concurrent else f"one answer takes {probe_s[name]:.1f} s",
                "server_cpu_ms_per_request": median(cpu_ms[name], 2),
                "baseline_cpu_ms_per_request": median(cpu_ms["health"], 3),
                "documents": seeded.documents,
                "users": len(seeded.owned),
                "user_documents": seeded.owned[MEASURED],
                "seed_s": round(seeded.seconds, 1),
                "seed_documents_per_s": round(seeded.documents / seeded.seconds),
                "seed_generate_s": round(seeded.generate_seconds, 1),
                "seed_vacuum_analyze_s": round(seeded.vacuum_seconds, 1),
                "seed_table_s": {table: round(seconds, 1) for table, seconds in seeded.table_seconds.items()},
                "rounds": options.rounds,
                "duration_s": options.duration_s,
                "load_generator": f"wrk -t1 -c1 and -c{CONCURRENT}",
                "nubes_p99_runs": [round(r.p99_ms, 2) for r in runs["sequential", name]],
                "concurrent_p99_runs": [round(r.p99_ms, 2) for r in runs["concurrent", name]],
                "baseline_p99_runs": [round(r.p99_ms, 2) for r in runs["sequential", "health"]],
            }
        )
    return results


# --- the documents list --------------------------------------------------------------------------------------------


def _listing(options: Options, server: Server, user: Member, seeded: Seeded) -> list[Result]:
    """Check both pages, then alternate wrk -c32 runs over health, the list and the list by tag."""
    endpoints = {
        "health": "/api/health",
        "list": f"/api/documents?limit={LIST_PAGE}",
        "tag": f"/api/documents?limit={LIST_PAGE}&tag_id={seeded.tag_id}",
    }
    expected = {"list": seeded.owned[MEASURED], "tag": seeded.tagged[MEASURED]}
    for name, total in expected.items():
        answer = call_json(server, "GET", endpoints[name], token=user.token, timeout=TIMEOUT_S)
        if answer["total"] != total or len(answer["items"]) != LIST_PAGE:
            raise BenchError(
                f"{endpoints[name]} listed {answer['total']} documents ({len(answer['items'])} on the page), not {total}"
            )
    auth = {"Authorization": f"Bearer {user.token}"}
    # 32 requests in flight are served interleaved, so they end together after ~32 answers' time: a run must last
    # a few such waves or wrk (which drops what is still running when it stops) counts next to nothing.
    answer_s = {name: _timed_requests(server, path, user.token, WARMUP_S).p50_ms / 1000 for name, path in endpoints.items()}
    duration_s = min(max(options.duration_s, math.ceil(3 * CONNECTIONS * max(answer_s.values()))), MAX_LIST_RUN_S)
    wrk(server, endpoints["health"], WARMUP_S, timeout_s=TIMEOUT_S)
    runs: dict[str, list[WrkRun]] = {name: [] for name in endpoints}
    for round_index in range(options.rounds):
        for name in list(endpoints) if round_index % 2 == 0 else list(endpoints)[::-1]:
            measured = wrk(server, endpoints[name], duration_s, headers=auth, timeout_s=TIMEOUT_S)
            runs[name].append(measured)
            print(
                f"documents: round {round_index + 1}/{options.rounds} list {name:7} {measured.requests_per_s:8.1f} req/s"
                f"  p50 {measured.p50_ms:8.2f} ms",
                file=sys.stderr,
            )
    health = median([r.requests_per_s for r in runs["health"]])
    results: list[Result] = []
    for name, what in (("list", "no filter"), ("tag", f"tag_id= (a tag {TAG_SHARE:.0%} of them have)")):
        rate = median([r.requests_per_s for r in runs[name]])
        results.append(
            {
                "benchmark": "documents_list_ratio",
                "unit": "requests/s",
                "filter": "none" if name == "list" else "tag",
                "what": f"GET /api/documents?limit={LIST_PAGE}, {what}",
                "user_documents": seeded.owned[MEASURED],
                "found": expected[name],
                "nubes": rate,
                "baseline": health,
                "baseline_is": "GET /api/health, same server",
                "ratio": _ratio(rate, health),
                "p50_ms": median([r.p50_ms for r in runs[name]], 2),
                "p99_ms": median([r.p99_ms for r in runs[name]], 2),
                "documents": seeded.documents,
                "rounds": options.rounds,
                "duration_s": duration_s,
                "one_client_ms": round(answer_s[name] * 1000, 2),
                "load_generator": load_generator(),
                "nubes_runs": [round(r.requests_per_s, 1) for r in runs[name]],
                "baseline_runs": [round(r.requests_per_s, 1) for r in runs["health"]],
            }
        )
    return results
