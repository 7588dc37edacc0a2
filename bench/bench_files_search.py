"""Name search over 100,000 entries: p50/p99 latency of `GET /api/files/search`, against fetching one file by id.

100,000 files (in 10 folders of 10,000) are named `<word> <word> <number>.txt` from a vocabulary of 100
words, so each word starts the names of about 2% of them. Two queries, each measured with one client
sending requests back to back (wrk -t1 -c1 --latency, so the latency is the server's, not a queue's):

- `files_search_latency` `q=<word>`: one word matching ~2,000 names, first 50 by name;
- `files_search_two_words_latency` `q=<word> <word>`: both words, ~20 names.

The baseline is `GET /api/files/<id>` on the same server in the same run, same token: a lookup by
primary key through the same stack (authentication, one indexed row, the same JSON), which is the least
any call that reads the database pays. `ratio` = baseline p50 / search p50 (higher is better, 1.0 = a
search costs no more than fetching one row by its id); `p99_ratio` the same at p99.
"""

from __future__ import annotations

import contextlib
import random
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from bench.files_support import call_json, create_folder, root_id, seed_files, signed_in_nubes
from bench.harness import WARMUP_S, BenchError, Options, Result, WrkRun, median, wrk

ENTRIES = 100_000
FOLDERS = 10
WORDS = [f"{stem}{suffix}" for stem in ("amber", "basalt", "cobalt", "delta", "ember") for suffix in "abcdefghijklmnopqrst"]
TIMEOUT_S = 30


def _names(folder_index: int, count: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {folder_index * count + index:06d}.txt" for index in range(count)]


EVERY_SERVER = True  # bench/run.py runs it under each ASGI server too


def run(options: Options) -> list[Result]:
    """Seed 100,000 files, check the queries find what they should, then alternate wrk runs."""
    rng = random.Random(4)  # noqa: S311 - the same names in every run, nothing secret
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        server, token = stack.enter_context(signed_in_nubes(workdir))
        root = root_id(server, token)
        ids: list[str] = []
        for folder_index in range(FOLDERS):
            folder = create_folder(server, token, root, f"folder {folder_index}")
            ids += seed_files(workdir, folder, _names(folder_index, ENTRIES // FOLDERS, rng))
        one_word, two_words = WORDS[7], f"{WORDS[7]} {WORDS[42]}"
        endpoints = {
            "get": f"/api/files/{ids[len(ids) // 2]}",
            "search": f"/api/files/search?q={quote(one_word)}",
            "search2": f"/api/files/search?q={quote(two_words)}",
        }
        found = {name: call_json(server, "GET", path, token=token) for name, path in endpoints.items() if name != "get"}
        if found["search"]["total"] != 50 or not 1 <= found["search2"]["total"] < 50:
            raise BenchError(f"the searches found {found['search']['total']} and {found['search2']['total']} entries")
        auth = {"Authorization": f"Bearer {token}"}
        for path in endpoints.values():
            wrk(server, path, WARMUP_S, connections=1, headers=auth, timeout_s=TIMEOUT_S)
        runs: dict[str, list[WrkRun]] = {name: [] for name in endpoints}
        for round_index in range(options.rounds):
            order = list(endpoints) if round_index % 2 == 0 else list(endpoints)[::-1]
            for name in order:
                measured = wrk(server, endpoints[name], options.duration_s, connections=1, headers=auth, timeout_s=TIMEOUT_S)
                runs[name].append(measured)
                print(
                    f"files_search: round {round_index + 1}/{options.rounds} {name:8} p50 {measured.p50_ms:7.2f} ms"
                    f"  p99 {measured.p99_ms:7.2f} ms",
                    file=sys.stderr,
                )

    get_p50 = median([r.p50_ms for r in runs["get"]], 2)
    get_p99 = median([r.p99_ms for r in runs["get"]], 2)
    results: list[Result] = []
    for name, benchmark, query in (
        ("search", "files_search_latency", one_word),
        ("search2", "files_search_two_words_latency", two_words),
    ):
        p50, p99 = median([r.p50_ms for r in runs[name]], 2), median([r.p99_ms for r in runs[name]], 2)
        results.append(
            {
                "benchmark": benchmark,
                "unit": "ms",
                "query": query,
                "found": found[name]["total"],
                "nubes_p50_ms": p50,
                "nubes_p99_ms": p99,
                "baseline_p50_ms": get_p50,
                "baseline_p99_ms": get_p99,
                "baseline_is": "GET /api/files/<id>, same server",
                "ratio": round(get_p50 / p50, 3),
                "p99_ratio": round(get_p99 / p99, 3),
                "entries": ENTRIES,
                "rounds": options.rounds,
                "duration_s": options.duration_s,
                "load_generator": "wrk -t1 -c1",
                "nubes_p50_runs": [round(r.p50_ms, 2) for r in runs[name]],
                "baseline_p50_runs": [round(r.p50_ms, 2) for r in runs["get"]],
            }
        )
    return results
