"""A 1 GiB file through Nubes: upload and download as ratios to `cp` on the same disk, download also to nginx.

- `file_upload_1gib`: `curl -T` streaming the file to `POST /api/files/upload/raw` (hashed, written to a
  temporary file, fsynced and renamed in place: durable when the 201 comes back) against `cp` of the same
  file on the same disk followed by an fsync of the copy (the same durability).
- `file_download_1gib`: `curl -o /dev/null` of `GET /api/files/{id}/content`, against plain `cp` of the
  blob to a file on the same disk, and against a throwaway nginx (sendfile on) serving the very same blob
  file from the same disk to the same curl command: nginx is the ceiling of serving a file over HTTP here.
  The client discards what it gets, so the download figures measure the server, not the client's writes.
  The server's RSS is sampled during the downloads (`nubes_peak_rss_mib`) next to its idle RSS.

Throughputs are MiB/s; ratios are nubes / baseline (1.0 = as fast as the baseline). The file is random
bytes and stays in the page cache for every measurement, so the numbers compare software, not the disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.files_support import call, signed_in_nubes
from bench.harness import BenchError, Options, Result, Server, median, nginx_serving, peak_rss, rss_kib

SIZE = 1 << 30
MIB = 1 << 20
CURL = Path("/usr/bin/curl")


def _random_file(path: Path, size: int) -> None:
    block = 16 * MIB
    with path.open("wb") as handle:
        for _ in range(size // block):
            handle.write(os.urandom(block))


def _cp(source: Path, target: Path, *, fsync: bool) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    if fsync:
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def _curl(argv: list[str]) -> tuple[int, float]:
    """Run curl (argv after the URL options); its status and the wall time."""
    started = time.perf_counter()
    completed = subprocess.run(
        [str(CURL), "-sS", "-w", "%{http_code}", *argv], capture_output=True, text=True, timeout=600, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise BenchError(f"curl exited with code {completed.returncode}: {completed.stderr.strip()}")
    return int(completed.stdout.strip()[-3:]), elapsed


def _download(url: str, headers: dict[str, str]) -> float:
    """Fetch `url` into /dev/null (the client writes nothing: this measures the server); the wall time."""
    argv = ["-o", "/dev/null", "-w", "%{http_code} %{size_download}"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    started = time.perf_counter()
    completed = subprocess.run([str(CURL), "-sS", *argv, url], capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise BenchError(f"curl exited with code {completed.returncode}: {completed.stderr.strip()}")
    status, size = completed.stdout.split()
    if status != "200" or int(size) != SIZE:
        raise BenchError(f"GET {url} answered {status} with {size} bytes, expected 200 with {SIZE}")
    return elapsed


EVERY_SERVER = True  # bench/run.py runs it under each ASGI server too


def run(options: Options) -> list[Result]:
    """Make the file, upload it round by round against cp, then download it round by round against cp and nginx."""
    if not CURL.is_file():
        raise BenchError(f"{CURL} not found (apt-get install curl)")
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        source = workdir / "source.bin"
        _random_file(source, SIZE)
        server, token = stack.enter_context(signed_in_nubes(workdir))
        auth = {"Authorization": f"Bearer {token}"}
        idle_rss_kib = rss_kib(server.process.pid)

        uploads, cp_fsync, file_id = _uploads(server, token, workdir, source, options.rounds)

        blob = _blob_path(workdir)
        nginx = stack.enter_context(nginx_serving(workdir, blob.parents[2]))
        nginx_path = "/" + str(blob.relative_to(blob.parents[2]))
        downloads: dict[str, list[float]] = {"nubes": [], "cp": [], "nginx": []}
        peak_kib = 0
        target = workdir / "copy.bin"
        for round_index in range(options.rounds):
            steps = ["nubes", "nginx", "cp"] if round_index % 2 == 0 else ["cp", "nginx", "nubes"]
            for step in steps:
                os.sync()  # no writeback of an earlier step's copy during this one
                if step == "cp":
                    downloads["cp"].append(_cp(blob, target, fsync=False))
                elif step == "nginx":
                    downloads["nginx"].append(_download(nginx.url(nginx_path), {}))
                else:
                    with peak_rss(server.process.pid) as peak:
                        downloads["nubes"].append(_download(server.url(f"/api/files/{file_id}/content"), auth))
                    peak_kib = max(peak_kib, peak[0])
            print(
                f"files_transfer: download round {round_index + 1}/{options.rounds} "
                + "  ".join(f"{name} {SIZE / MIB / times[-1]:7.0f} MiB/s" for name, times in downloads.items()),
                file=sys.stderr,
            )
        server.check_alive()

    def rate(times: list[float]) -> float:
        return median([SIZE / MIB / elapsed for elapsed in times])

    upload, cp_durable = rate(uploads), rate(cp_fsync)
    download, cp_plain, nginx_rate = rate(downloads["nubes"]), rate(downloads["cp"]), rate(downloads["nginx"])
    common = {"unit": "MiB/s", "size_bytes": SIZE, "rounds": options.rounds, "client": "curl"}
    return [
        {
            "benchmark": "file_upload_1gib",
            "nubes": upload,
            "baseline": cp_durable,
            "baseline_is": "cp + fsync of the copy",
            "ratio": round(upload / cp_durable, 3),
            "nubes_runs": [round(SIZE / MIB / t) for t in uploads],
            "baseline_runs": [round(SIZE / MIB / t) for t in cp_fsync],
            **common,
        },
        {
            "benchmark": "file_download_1gib",
            "nubes": download,
            "baseline": cp_plain,
            "baseline_is": "cp",
            "ratio": round(download / cp_plain, 3),
            "nginx": nginx_rate,
            "nginx_ratio": round(download / nginx_rate, 3),
            "nubes_idle_rss_mib": round(idle_rss_kib / 1024, 1),
            "nubes_peak_rss_mib": round(peak_kib / 1024, 1),
            "nubes_runs": [round(SIZE / MIB / t) for t in downloads["nubes"]],
            "baseline_runs": [round(SIZE / MIB / t) for t in downloads["cp"]],
            "nginx_runs": [round(SIZE / MIB / t) for t in downloads["nginx"]],
            **common,
        },
    ]


def _uploads(server: Server, token: str, workdir: Path, source: Path, rounds: int) -> tuple[list[float], list[float], str]:
    """Upload times, cp + fsync times, and the id of the file left uploaded."""
    uploads: list[float] = []
    cp_fsync: list[float] = []
    file_id = ""
    for round_index in range(rounds):
        steps = ["nubes", "cp"] if round_index % 2 == 0 else ["cp", "nubes"]
        for step in steps:
            os.sync()  # no writeback of an earlier step's copy during this one
            if step == "cp":
                cp_fsync.append(_cp(source, workdir / "copy.bin", fsync=True))
                continue
            if file_id:  # keep one uploaded copy on disk at a time
                call(server, "DELETE", f"/api/files/{file_id}", token=token)
                call(server, "DELETE", f"/api/trash/{file_id}", token=token)
            url = server.url(f"/api/files/upload/raw?name=big-{round_index}.bin")
            argv = ["-o", str(workdir / "upload-answer.json"), "-X", "POST", "-T", str(source), "-H", "Expect:"]
            argv += ["-H", "Content-Type: application/octet-stream", "-H", f"Authorization: Bearer {token}", url]
            status, elapsed = _curl(argv)
            answer = (workdir / "upload-answer.json").read_text()
            if status != 201:
                raise BenchError(f"upload answered {status}: {answer[:300]}")
            file_id = json.loads(answer)["id"]
            uploads.append(elapsed)
        print(
            f"files_transfer: upload round {round_index + 1}/{rounds} nubes {SIZE / MIB / uploads[-1]:7.0f} MiB/s"
            f"  cp+fsync {SIZE / MIB / cp_fsync[-1]:7.0f} MiB/s",
            file=sys.stderr,
        )
    return uploads, cp_fsync, file_id


def _blob_path(workdir: Path) -> Path:
    """Where the uploaded file's bytes are on disk: the one blob of that size under the data dir."""
    blobs = [path for path in (workdir / "nubes-data" / "blobs").glob("??/??/*") if path.stat().st_size == SIZE]
    if len(blobs) != 1:
        raise BenchError(f"expected one 1 GiB blob under the data dir, found {len(blobs)}")
    return blobs[0]
