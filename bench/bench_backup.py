"""Backups: `nubes backup` (restic) against `tar` of the same data, and the incremental run after 1 % of files change.

- `backup_throughput`: MB/s of a first `nubes backup` of an install holding FILES blobs of BLOB_KIB KiB each (its
  database dumped, the blobs read, encrypted, deduplicated, written to a local repository, then verified) as a ratio
  to `tar -cf` of the same data dir to a file on the same disk (no compression, no encryption: the floor of reading
  and writing every byte once). `incremental_s`: seconds of the next `nubes backup` after 1 % of the blobs are new
  (restic reads only what changed), with `incremental_ratio` = incremental / full (lower is better).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import POSTGRES, BenchError, Options, Result, current_variant, median, server_env

FILES = 2000
BLOB_KIB = 64
CHANGED = FILES // 100


def _write_blobs(root: Path, count: int) -> None:
    for _ in range(count):
        key = secrets.token_hex(16)
        folder = root / key[:2] / key[2:4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(os.urandom(BLOB_KIB * 1024))


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv[:3])} failed: {done.stderr.strip()[-300:]}")
    return time.perf_counter() - started


def run(options: Options) -> list[Result]:
    """Seed an install, time `tar` and `nubes backup` in alternating rounds, then an incremental backup."""
    nubes = Path(sys.executable).parent / "nubes"
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        data_dir = workdir / "nubes-data"
        password = workdir / "password"
        password.write_text(secrets.token_urlsafe(24))
        password.chmod(0o600)
        extra = {"NUBES_DATA_DIR": str(data_dir), "NUBES_BACKUP_PASSWORD_FILE": str(password)}
        if current_variant().engine == "postgresql":
            extra["NUBES_DATABASE_URL"] = stack.enter_context(POSTGRES.database())
        env = server_env(**extra)
        _timed([str(nubes), "migrate"], env, workdir)
        _write_blobs(data_dir / "blobs", FILES)
        size_mb = sum(path.stat().st_size for path in data_dir.rglob("*") if path.is_file()) / 1e6
        tar_runs: list[float] = []
        backup_runs: list[float] = []
        for round_ in range(options.rounds):
            archive = workdir / "data.tar"
            archive.unlink(missing_ok=True)
            tar = ["tar", "-cf", str(archive), "-C", str(workdir), "nubes-data"]
            repository = workdir / f"repo-{round_}"
            backup_env = env | {"NUBES_BACKUP_REPOSITORY": str(repository)}
            order = [("tar", tar, env), ("backup", [str(nubes), "backup"], backup_env)]
            if round_ % 2:
                order.reverse()
            for name, argv, run_env in order:
                seconds = _timed(argv, run_env, workdir)
                (tar_runs if name == "tar" else backup_runs).append(seconds)
        _write_blobs(data_dir / "blobs", CHANGED)
        incremental = _timed([str(nubes), "backup"], env | {"NUBES_BACKUP_REPOSITORY": str(workdir / "repo-0")}, workdir)
    tar_s, backup_s = median(tar_runs, 3), median(backup_runs, 3)
    return [
        {
            "benchmark": "backup_throughput",
            "data_mb": round(size_mb, 1),
            "files": FILES,
            "backup_mb_s": round(size_mb / backup_s, 1),
            "tar_mb_s": round(size_mb / tar_s, 1),
            "ratio": round(tar_s / backup_s, 3),
            "backup_runs_s": [round(value, 2) for value in backup_runs],
            "tar_runs_s": [round(value, 2) for value in tar_runs],
            "incremental_s": round(incremental, 2),
            "incremental_ratio": round(incremental / backup_s, 3),
        }
    ]
