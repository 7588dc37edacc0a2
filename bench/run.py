"""Run the benchmarks: `python bench/run.py [FILTER] [--duration S] [--rounds N] [--engines E] [--servers S]`.

Every `bench/bench_<name>.py` is a benchmark. It exposes `run(options: Options) -> list[Result]`, where
`Options` and `Result` (a JSON-able dict) come from bench/harness.py; it starts what it measures, measures a
baseline in the same run, and returns one dict per result. This script imports each benchmark whose name
contains FILTER, in name order, and prints one JSON line per result on stdout; progress goes to stderr.

Each benchmark runs once per database engine (--engines or BENCH_ENGINES, default `sqlite,postgresql`; the
PostgreSQL cluster is started here, once, and stopped at the end), and a benchmark whose module sets
`EVERY_SERVER = True` once per ASGI server too (--servers or BENCH_SERVERS, default `uvicorn,granian`); the
others run under `nubes serve`'s default server. Every result line carries `engine` and `server`.

Duration of each measured wrk run: --duration or BENCH_DURATION (default 5 s); rounds: --rounds or
BENCH_ROUNDS (default 3). Exit code: 0 all ran, 1 a benchmark failed, 2 nothing could run (usage, no wrk).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

REPO_ROOT = Path(__file__).resolve().parent.parent
# Run as a script, sys.path[0] is bench/; the benchmarks import `bench.harness`, so the repo root goes there instead.
if sys.path and Path(sys.path[0]).resolve() == REPO_ROOT / "bench":
    sys.path[0] = str(REPO_ROOT)
elif str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import (  # noqa: E402  (needs the path set above)
    BENCH_DIR,
    DEFAULT_SERVER,
    ENGINES,
    POSTGRES,
    SERVERS,
    WRK,
    BenchError,
    Options,
    Result,
    variant,
)


def discover() -> dict[str, Path]:
    """Every benchmark by name (`bench_health.py` is `health`), in name order."""
    return {path.stem.removeprefix("bench_"): path for path in sorted(BENCH_DIR.glob("bench_*.py"))}


def variants(name: str, options: Options) -> list[tuple[str, str]]:
    """The (engine, server) pairs benchmark `name` runs on."""
    module = importlib.import_module(f"bench.bench_{name}")
    servers = options.servers if getattr(module, "EVERY_SERVER", False) else (DEFAULT_SERVER,)
    return [(engine, server) for engine in options.engines for server in servers]


def run_one(name: str, options: Options) -> list[Result]:
    """Import and run one benchmark, checking it returned what run.py promises to print."""
    module = importlib.import_module(f"bench.bench_{name}")
    run = getattr(module, "run", None)
    if not callable(run):
        raise BenchError(f"bench/bench_{name}.py has no run(options) function")
    results = run(options)
    if not isinstance(results, list) or not all(isinstance(result, dict) for result in results):
        raise BenchError(f"bench/bench_{name}.py run() returned {type(results).__name__}, not a list of dicts")
    return results


def _names(variable: str, known: tuple[str, ...], text: str | None) -> tuple[str, ...]:
    """A comma-separated list from --option or `variable`, each one of `known` (all of them when unset)."""
    text = text if text is not None else os.environ.get(variable, "")
    names = tuple(name.strip() for name in text.split(",") if name.strip()) or known
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"error: {variable}: unknown {', '.join(unknown)}; choose from {','.join(known)}", file=sys.stderr)
        sys.exit(2)
    return names


def _env_int(name: str, default: int) -> int:
    """An integer from the environment, or `default` when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        print(f"error: {name}={value!r} is not a whole number >= 1", file=sys.stderr)
        sys.exit(2)
    return int(value)


def _positive(text: str) -> int:
    """argparse type: a whole number >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is less than 1")
    return value


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into an exception so the benchmarks' `finally` blocks stop their servers."""
    raise SystemExit(128 + signum)


def main() -> int:
    """Parse the arguments, run the selected benchmarks, print their JSON lines; return the exit code."""
    defaults = Options()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("filter", nargs="?", default="", help="run only benchmarks whose name contains this")
    parser.add_argument(
        "--duration",
        type=_positive,
        default=_env_int("BENCH_DURATION", defaults.duration_s),
        help="seconds per measured run (BENCH_DURATION, default %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=_env_int("BENCH_ROUNDS", defaults.rounds),
        help="rounds per benchmark; the median is reported (BENCH_ROUNDS, default %(default)s)",
    )
    parser.add_argument("--engines", help=f"database engines, comma-separated (BENCH_ENGINES, default {','.join(ENGINES)})")
    parser.add_argument("--servers", help=f"ASGI servers, comma-separated (BENCH_SERVERS, default {','.join(SERVERS)})")
    parser.add_argument("--list", action="store_true", help="print the benchmark names and exit")
    args = parser.parse_args()
    engines = _names("BENCH_ENGINES", ENGINES, args.engines)
    servers = _names("BENCH_SERVERS", SERVERS, args.servers)

    benchmarks = [name for name in discover() if args.filter in name]
    if args.list:
        print("\n".join(benchmarks))
        return 0
    if not benchmarks:
        print(f"error: no benchmark matches {args.filter!r}; there are: {', '.join(discover())}", file=sys.stderr)
        return 2
    if not WRK.is_file():
        print(f"error: {WRK} not found; run `make bench`, which installs wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    options = Options(duration_s=args.duration, rounds=args.rounds, engines=engines, servers=servers)
    try:
        return run_all(benchmarks, options)
    finally:
        POSTGRES.stop()


def run_all(benchmarks: list[str], options: Options) -> int:
    """Run `benchmarks` in order, printing each result as one JSON line; return the exit code."""
    failed = []
    for name in benchmarks:
        for engine, server in variants(name, options):
            label = f"{name} [{engine}, {server}]"
            started = time.monotonic()
            print(f"{label}: running ({options.rounds} rounds of {options.duration_s} s)", file=sys.stderr)
            try:
                with variant(engine, server):
                    results = run_one(name, options)
            except BenchError as exc:
                print(f"error: {label}: {exc}", file=sys.stderr)
                failed.append(label)
                continue
            except KeyboardInterrupt:
                print(f"{label}: interrupted", file=sys.stderr)
                return 130
            for result in results:
                # engine and server right after the benchmark's name, so the lines read side by side.
                line = {"benchmark": result.get("benchmark"), "engine": engine, "server": server, **result}
                print(json.dumps(line), flush=True)
            print(f"{label}: done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    if failed:
        print(f"error: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
