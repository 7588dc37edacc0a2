"""1,000 small (4 KiB) uploads with 8 concurrent clients: files/s, against the same durable writes done locally.

`files_small_uploads`: 8 threads, each with one keep-alive connection, POST 125 distinct 4 KiB bodies to
`/api/files/upload/raw` (bearer token); each 201 means the blob was fsynced and renamed into place and
its row committed. The baseline is the same 1,000 writes of 4 KiB by 8 threads of a Python loop on the
same disk, each as durable as Nubes makes it: write a temporary file, fsync it, rename it into place,
fsync the directory. The ratio (nubes / baseline) is then what HTTP, authentication, quota checks,
the name rules and the database cost per file on top of the disk's own price of a durable small file.
An upload answered with a 5xx is not counted as done; `failed_uploads` lists how many failed per round
(on SQLite, a writer that waits more than the 5 s busy timeout for the write lock gets a 500).
`unsafe_writes_per_s` (the loop without any fsync) is given for scale: it is what `cp` of small
files does, and what a server that acknowledges before the data is on disk could reach.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.files_support import create_folder, root_id, signed_in_nubes
from bench.harness import HOST, BenchError, Options, Result, Server, median

FILES = 1000
CLIENTS = 8
SIZE = 4096
WARMUP_FILES = 40


def _upload_batch(server: Server, token: str, folder: str, names: list[str]) -> list[int]:
    """Upload each name; the statuses of the uploads that failed with a 5xx (anything else unexpected raises)."""
    failed: list[int] = []
    connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
    try:
        # http.client sends the headers and the body in two writes; with Nagle's algorithm on, the body then waits
        # for the server's delayed ACK of the headers (40 ms on Linux) and every upload measured that timer, not
        # Nubes. curl, browsers and sync clients set TCP_NODELAY; so does this client.
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for name in names:
            path = f"/api/files/upload/raw?name={name}&parent_id={folder}"
            connection.request("POST", path, body=os.urandom(SIZE), headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status >= 500:
                failed.append(response.status)
            elif response.status != 201:
                raise BenchError(f"upload of {name} answered {response.status}: {body[:300]!r}\n{server.log_tail(60)}")
    finally:
        connection.close()
    return failed


def _uploads(server: Server, token: str, folder: str, round_index: int, files: int = FILES) -> tuple[float, int]:
    """Files/s of the successful uploads of one round, and how many failed with a 5xx."""
    names = [f"small-{round_index}-{index:04d}.bin" for index in range(files)]
    batches = [names[client::CLIENTS] for client in range(CLIENTS)]
    started = time.perf_counter()
    failed = 0
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(_upload_batch, server, token, folder, batch) for batch in batches]:
            failed += len(future.result())
    return (files - failed) / (time.perf_counter() - started), failed


def _write_batch(directory: Path, names: list[str], *, durable: bool) -> None:
    for name in names:
        temporary = directory / f".{uuid.uuid4().hex}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, os.urandom(SIZE))
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        temporary.rename(directory / name)
        if durable:
            directory_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(directory_fd)
            finally:
                os.close(directory_fd)


def _writes(workdir: Path, round_index: int, *, durable: bool) -> float:
    directory = workdir / f"writes-{round_index}-{durable}"
    directory.mkdir()
    names = [f"small-{index:04d}.bin" for index in range(FILES)]
    batches = [names[client::CLIENTS] for client in range(CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(_write_batch, directory, batch, durable=durable) for batch in batches]:
            future.result()
    return FILES / (time.perf_counter() - started)


EVERY_SERVER = True  # bench/run.py runs it under each ASGI server too


def run(options: Options) -> list[Result]:
    """Alternate rounds of 1,000 uploads and 1,000 local durable writes (and 1,000 unsafe ones)."""
    runs: dict[str, list[float]] = {"nubes": [], "baseline": [], "unsafe": []}
    failures: list[int] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        server, token = stack.enter_context(signed_in_nubes(workdir))
        root = root_id(server, token)
        _uploads(server, token, create_folder(server, token, root, "warm-up"), -1, files=WARMUP_FILES)
        for round_index in range(options.rounds):
            order = ["nubes", "baseline", "unsafe"] if round_index % 2 == 0 else ["unsafe", "baseline", "nubes"]
            for name in order:
                os.sync()
                if name == "nubes":
                    folder = create_folder(server, token, root, f"round {round_index}")
                    rate, failed = _uploads(server, token, folder, round_index)
                    runs[name].append(rate)
                    failures.append(failed)
                else:
                    runs[name].append(_writes(workdir, round_index, durable=name == "baseline"))
            print(
                f"files_small: round {round_index + 1}/{options.rounds} "
                + "  ".join(f"{name} {rates[-1]:7.1f} files/s" for name, rates in runs.items()),
                file=sys.stderr,
            )
        server.check_alive()

    nubes, baseline = median(runs["nubes"]), median(runs["baseline"])
    return [
        {
            "benchmark": "files_small_uploads",
            "unit": "files/s",
            "nubes": nubes,
            "baseline": baseline,
            "baseline_is": "Python loop, write + fsync + rename + fsync(dir), same disk, 8 threads",
            "ratio": round(nubes / baseline, 3),
            "unsafe_writes_per_s": median(runs["unsafe"]),
            "failed_uploads": failures,
            "files": FILES,
            "file_bytes": SIZE,
            "clients": CLIENTS,
            "rounds": options.rounds,
            "nubes_runs": [round(rate, 1) for rate in runs["nubes"]],
            "baseline_runs": [round(rate, 1) for rate in runs["baseline"]],
        }
    ]
