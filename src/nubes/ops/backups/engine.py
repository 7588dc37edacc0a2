"""The whole install in one restic snapshot, and back: the database, the blobs, the server secret and a manifest.

A backup takes the database first (SQLite's online backup API into a staging file; `pg_dump -Fc`, one
transaction, on PostgreSQL), then the blobs, so every blob a row of that dump names already existed (a blob is
written completely before the row naming it commits). Blobs on the local disk are read by restic from the
blobs directory (it uploads only what is new); blobs on S3 are mirrored into `<data_dir>/backup-cache/blobs`,
kept between runs, so each run fetches only the blobs the dump names and the mirror lacks. A blob deleted
between the dump and its copy (its row was deleted after the dump) would leave the snapshot short: every run
checks that each blob the dump names is in the snapshot and, when one is missing, dumps and copies again
(`ATTEMPTS`), instead of pausing the deletion of blobs while a backup runs.

Restore refuses a data dir that is not empty (and a PostgreSQL database that has tables), reads the
manifest first, lets restic check every byte against its hashes, checks the manifest's SHA-256 of the dump
and the secret, and only then moves anything into place; on any failure it removes what it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nubes import __version__
from nubes.config import Settings
from nubes.core.storage import BlobNotFound, S3Storage, open_storage
from nubes.models import Base
from nubes.ops.backups import restic
from nubes.ops.backups.restic import Repository, ResticError

FORMAT = 1
"""The manifest's format; restore refuses one it does not know."""

ATTEMPTS = 3
"""Dump-and-copy passes before a backup whose blobs keep disappearing under it is reported as failed."""

STAGING = "backup-staging"
CACHE = "backup-cache"
SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
SECRET = "secret_key"  # noqa: S105 - the name of the secret's file, not a secret
MANIFEST = "manifest.json"
BLOB_COLUMN = "blob_key"
VERIFY_SUBSET = "10%"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do next and names no secret."""


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a backup or restore stands: a stage name and, when known, the fraction done."""

    stage: str
    fraction: float | None = None
    bytes_done: int = 0
    bytes_total: int = 0


ProgressFn = Callable[[Progress], None]


def _quiet(_: Progress) -> None:
    return None


@dataclass(slots=True)
class Outcome:
    """What one backup run made."""

    snapshot_id: str
    bytes_added: int
    total_bytes: int
    files: int
    seconds: float
    verified: bool
    verify_detail: str
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RestorePoint:
    """One snapshot Nubes made, as `restic snapshots` lists it."""

    snapshot_id: str
    short_id: str
    time: datetime
    paths: list[str]


@dataclass(frozen=True, slots=True)
class Keep:
    """How many daily, weekly and monthly snapshots retention keeps."""

    daily: int = 7
    weekly: int = 4
    monthly: int = 6


def repository_from(settings: Settings) -> Repository:
    """The configured repository, or BackupError naming the variable to set."""
    if not settings.backup_repository:
        raise BackupError("no backup repository: set NUBES_BACKUP_REPOSITORY (a directory or s3:http://host/bucket)")
    password_file = settings.backup_password_file
    if password_file is None:
        raise BackupError("no repository password: set NUBES_BACKUP_PASSWORD_FILE to a file holding it (mode 0600)")
    if not password_file.is_file() or not password_file.read_text().strip():
        raise BackupError(f"NUBES_BACKUP_PASSWORD_FILE: {password_file} is missing or empty; write the password into it")
    return Repository(location=settings.backup_repository, password_file=password_file)


def shown_location(location: str) -> str:
    """The repository as the UI and logs may show it: any credential in a URL masked."""
    parts = urlsplit(location.removeprefix("s3:"))
    if parts.password:
        return location.replace(f":{parts.password}@", ":***@", 1)
    return location


# --- backup ---------------------------------------------------------------------------------------


def backup(settings: Settings, repository: Repository, *, progress: ProgressFn = _quiet) -> Outcome:
    """One snapshot of the install, verified; BackupError when it could not be made complete."""
    started = time.monotonic()
    try:
        restic.ensure_initialized(repository)
    except ResticError as exc:
        raise BackupError(f"cannot open or create the repository: {exc}") from exc
    with _locked(settings.data_dir / "backup.lock"):
        for _ in range(ATTEMPTS):
            staging = _fresh_dir(settings.data_dir / STAGING)
            progress(Progress("database"))
            manifest, referenced = _stage(settings, staging)
            blobs_root = _blobs_for_snapshot(settings, referenced, progress)
            manifest["blobs"] = {
                "storage": "local" if _local_blobs(settings) else "s3",
                "root": str(blobs_root),
                "referenced": len(referenced),
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
            summary = _snapshot(repository, staging, blobs_root, progress)
            snapshot_id = str(summary.get("snapshot_id", ""))
            missing = _absent(blobs_root, referenced, flat=not _local_blobs(settings))
            if not missing:
                break
            restic.run(repository, "forget", snapshot_id)
        else:
            raise BackupError(
                f"{len(missing)} blobs named by the database vanished during the backup {ATTEMPTS} times; run it again"
            )
        shutil.rmtree(staging, ignore_errors=True)
    progress(Progress("verify"))
    verified, detail = verify(repository, snapshot_id, manifest)
    return Outcome(
        snapshot_id=snapshot_id,
        bytes_added=int(summary.get("data_added", 0)),
        total_bytes=int(summary.get("total_bytes_processed", 0)),
        files=int(summary.get("total_files_processed", 0)),
        seconds=time.monotonic() - started,
        verified=verified,
        verify_detail=detail,
        manifest=manifest,
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One backup at a time per data dir (the CLI and a server's scheduled run share the staging dir)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError("another backup of this install is running; wait for it to finish") from None
        yield
    finally:
        os.close(fd)


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True)
    return path


def _stage(settings: Settings, staging: Path) -> tuple[dict[str, Any], set[str]]:
    """The database dump and the secret into `staging`; the manifest so far and the blob keys the dump names."""
    if settings.database_engine == "sqlite":
        dump = staging / SQLITE_DUMP
        _sqlite_backup(_sqlite_path(settings.effective_database_url), dump)
        head, referenced, counts = _read_sqlite(dump)
    else:
        dump = staging / POSTGRES_DUMP
        _pg_dump(settings.effective_database_url, dump)
        head, referenced, counts = _read_pg_dump(dump)
    secret = staging / SECRET
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(settings.secret_key + "\n")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "nubes_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
        "engine": settings.database_engine,
        "migration_head": head,
        "counts": counts,
        "files": {dump.name: _sha256(dump), SECRET: _sha256(secret)},
    }
    return manifest, referenced


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1].split("?", 1)[0])


def _sqlite_backup(live: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while servers keep writing (never a copy of the live file)."""
    source = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    target.chmod(0o600)


def _blob_tables() -> list[str]:
    """Tables whose rows name a blob (a `blob_key` column), read from the models so a new one is never missed."""
    return sorted(name for name, table in Base.metadata.tables.items() if BLOB_COLUMN in table.c)


COUNTED = ("users", "tenants", "file_nodes", "file_versions", "shares")


def _read_sqlite(path: Path) -> tuple[str | None, set[str], dict[str, int]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        head = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            head = row[0] if row else None
        referenced: set[str] = set()
        for table in _blob_tables():
            if table in tables:
                query = f"SELECT {BLOB_COLUMN} FROM {table} WHERE {BLOB_COLUMN} IS NOT NULL"  # noqa: S608 - names from the models
                referenced.update(row[0] for row in connection.execute(query))
        counts = {
            table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - fixed names
            for table in COUNTED
            if table in tables
        }
    finally:
        connection.close()
    return head, referenced, counts


# --- PostgreSQL -----------------------------------------------------------------------------------


def postgres_tool(name: str) -> str:
    """`pg_dump` / `pg_restore` / `psql` of the newest PostgreSQL installed (it reads older servers' dumps too)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda path: int(path.parts[-3]))
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: `apt-get install postgresql-client` matching the server's version")
    return found


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq tools read it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _pg_dump(url: str, target: Path) -> None:
    """`pg_dump -Fc`: one transaction, so the dump is one moment of the database."""
    _run_tool([postgres_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(target), "-d", libpq_url(url)])


def _run_tool(command: list[str]) -> str:
    # UTF-8 whatever the locale: the dumps are (Nubes makes its databases in UTF-8).
    done = subprocess.run(command, capture_output=True, encoding="utf-8", errors="replace", check=False)  # noqa: S603 - PostgreSQL's own tools
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        # The URL (with its password) is an argument, never echoed: the tool's last line names the table or the cause.
        raise BackupError(f"{Path(command[0]).name} failed: {lines[-1] if lines else done.returncode}")
    return done.stdout


def _copy_rows(dump: Path, table: str) -> tuple[list[str], list[list[str]]]:
    """A table's rows out of a custom-format dump (pg_restore prints them as COPY text), as strings."""
    text = _run_tool([postgres_tool("pg_restore"), "--data-only", "-t", table, "-f", "-", str(dump)])
    columns: list[str] = []
    rows: list[list[str]] = []
    inside = False
    for line in text.split("\n"):  # COPY escapes newlines in values; splitlines() would also cut at \x1c or \u2028
        if line.startswith("COPY ") and " FROM stdin" in line:
            columns = [name.strip().strip('"') for name in line.split("(", 1)[1].split(")", 1)[0].split(",")]
            inside = True
        elif inside and line == "\\.":
            inside = False
        elif inside:
            rows.append(line.split("\t"))
    return columns, rows


def _read_pg_dump(dump: Path) -> tuple[str | None, set[str], dict[str, int]]:
    columns, rows = _copy_rows(dump, "alembic_version")
    head = rows[0][0] if rows and columns else None
    referenced: set[str] = set()
    for table in _blob_tables():
        columns, rows = _copy_rows(dump, table)
        if BLOB_COLUMN in columns:
            at = columns.index(BLOB_COLUMN)
            referenced.update(row[at] for row in rows if row[at] != "\\N")
    counts = {table: len(_copy_rows(dump, table)[1]) for table in COUNTED}
    return head, referenced, counts


# --- blobs ----------------------------------------------------------------------------------------


def _local_blobs(settings: Settings) -> bool:
    return not settings.storage_url.startswith("s3://")


def local_blob_root(settings: Settings) -> Path:
    """Where the local disk keeps blobs (NUBES_STORAGE_URL=file:///path, or <data_dir>/blobs)."""
    url = settings.storage_url
    return (Path(urlsplit(url).path) if url else settings.data_dir / "blobs").resolve()


def _blobs_for_snapshot(settings: Settings, referenced: set[str], progress: ProgressFn) -> Path:
    """The directory restic reads blobs from: the local blobs dir, or the S3 mirror brought up to date."""
    if _local_blobs(settings):
        root = local_blob_root(settings)
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return root
    mirror = settings.data_dir / CACHE / "blobs"
    mirror.mkdir(parents=True, exist_ok=True, mode=0o700)
    asyncio.run(_mirror(settings, mirror, referenced, progress))
    return mirror.resolve()


async def _mirror(settings: Settings, mirror: Path, referenced: set[str], progress: ProgressFn) -> None:
    """Fetch the blobs the mirror lacks, drop the ones no row names any more (a blob's bytes never change)."""
    storage = open_storage(settings)
    present = await asyncio.to_thread(_prune_mirror, mirror, referenced)
    wanted = sorted(referenced - present)
    for done, key in enumerate(wanted, start=1):
        partial = mirror / f".{key}.part"
        try:
            with partial.open("wb") as handle:
                async for chunk in storage.get(key):
                    handle.write(chunk)
            partial.rename(mirror / key)
        except BlobNotFound:  # deleted since the dump: the membership check after the snapshot retries
            partial.unlink(missing_ok=True)
        progress(Progress("blobs", done / len(wanted)))


def _prune_mirror(mirror: Path, referenced: set[str]) -> set[str]:
    """Drop the mirrored blobs no row names any more; the names left."""
    present = {path.name for path in mirror.iterdir() if path.is_file() and not path.name.startswith(".")}
    for stale in present - referenced:
        (mirror / stale).unlink(missing_ok=True)
    return present & referenced


def _snapshot(repository: Repository, staging: Path, blobs_root: Path, progress: ProgressFn) -> dict[str, Any]:
    summary: dict[str, Any] = {}

    def seen(message: dict[str, Any]) -> None:
        if message.get("message_type") == "status":
            progress(
                Progress(
                    "upload",
                    float(message.get("percent_done", 0.0)),
                    int(message.get("bytes_done", 0)),
                    int(message.get("total_bytes", 0)),
                )
            )
        elif message.get("message_type") == "summary":
            summary.update(message)

    try:
        restic.run(
            repository,
            "backup",
            "--json",
            "--tag",
            restic.TAG,
            "--host",
            "nubes",
            "--exclude",
            str(blobs_root / "tmp"),
            "--exclude",
            str(blobs_root / "staging"),
            "--exclude",
            str(blobs_root / ".*.part"),
            str(staging.resolve()),
            str(blobs_root),
            on_json=seen,
        )
    except ResticError as exc:
        raise BackupError(f"restic could not write the snapshot: {exc}") from exc
    if not summary.get("snapshot_id"):
        raise BackupError("restic ended without naming its snapshot; run `restic snapshots` to look")
    return summary


def _absent(blobs_root: Path, referenced: set[str], *, flat: bool) -> set[str]:
    """The blobs the dump names that are not under `blobs_root` now, after the snapshot. A blob is written once, under
    a key drawn at random, and only ever deleted: one present now was there when restic read the directory; one absent
    may have gone before restic reached it, so the run is made again (a stat per blob, not a listing of the snapshot)."""
    return {key for key in referenced if not (blobs_root / (key if flat else f"{key[:2]}/{key[2:4]}/{key}")).is_file()}


def verify(repository: Repository, snapshot_id: str, manifest: dict[str, Any]) -> tuple[bool, str]:
    """`restic check` (reading a subset of the data) and the manifest's checksums read back out of the snapshot."""
    try:
        restic.run(repository, "check", f"--read-data-subset={VERIFY_SUBSET}")
        snapshot = restic.snapshots(repository, snapshot_id)[0]
        staging = _staging_path(snapshot)
        for name, expected in manifest.get("files", {}).items():
            if hashlib.sha256(restic.dump(repository, snapshot_id, f"{staging}/{name}")).hexdigest() != expected:
                return False, f"{name} in the snapshot does not match its checksum"
    except (ResticError, IndexError) as exc:
        return False, f"verification failed: {exc}"
    return True, f"restic check (read {VERIFY_SUBSET} of the data) and manifest checksums passed"


def _staging_path(snapshot: dict[str, Any]) -> str:
    for path in snapshot.get("paths", []):
        if str(path).rstrip("/").endswith(STAGING):
            return str(path).rstrip("/")
    raise BackupError("this snapshot was not made by `nubes backup` (no staging directory in it)")


def forget(repository: Repository, keep: Keep) -> int:
    """Apply retention: keep N daily, weekly and monthly snapshots; prune the data only when some were forgotten.

    How many snapshots were forgotten (pruning reads the whole index: skipped when there is nothing to free).
    """
    output = restic.run(
        repository,
        "forget",
        "--json",
        "--tag",
        restic.TAG,
        "--keep-daily",
        str(keep.daily),
        "--keep-weekly",
        str(keep.weekly),
        "--keep-monthly",
        str(keep.monthly),
    )
    groups = json.loads(output or "[]")
    removed = (
        sum(len(group.get("remove") or []) for group in groups if isinstance(group, dict)) if isinstance(groups, list) else 0
    )
    if removed:
        restic.run(repository, "prune")
    return removed


def restore_points(repository: Repository) -> list[RestorePoint]:
    """Every snapshot Nubes made, newest first."""
    points = [
        RestorePoint(
            snapshot_id=str(item["id"]),
            short_id=str(item.get("short_id", str(item["id"])[:8])),
            time=datetime.fromisoformat(str(item["time"]).replace("Z", "+00:00")),
            paths=[str(path) for path in item.get("paths", [])],
        )
        for item in restic.snapshots(repository)
    ]
    return sorted(points, key=lambda point: point.time, reverse=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- restore --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore brought back."""

    snapshot_id: str
    engine: str
    migration_head: str | None
    blobs: int


def restore(
    *,
    repository: Repository,
    snapshot: str,
    data_dir: Path,
    database_url: str = "",
    storage_url: str = "",
    progress: ProgressFn = _quiet,
) -> Restored:
    """Bring a snapshot back into an empty data dir (and an empty PostgreSQL database); all or nothing."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: restore into a new, empty directory")
    if database_url and not database_url.startswith(("postgresql", "postgres")):
        raise BackupError("--database-url: restore into PostgreSQL (postgresql://...) or leave it out for SQLite")
    created_dir = not data_dir.exists()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    placed_blobs: list[str] = []
    try:
        return _restore(
            repository=repository,
            snapshot=snapshot,
            data_dir=data_dir,
            database_url=database_url,
            storage_url=storage_url,
            progress=progress,
            placed_blobs=placed_blobs,
        )
    except BaseException:
        _undo(data_dir, created_dir=created_dir, storage_url=storage_url, blobs=placed_blobs)
        raise


def _restore(
    *,
    repository: Repository,
    snapshot: str,
    data_dir: Path,
    database_url: str,
    storage_url: str,
    progress: ProgressFn,
    placed_blobs: list[str],
) -> Restored:
    try:
        found = restic.snapshots(repository, snapshot)
    except ResticError as exc:
        raise BackupError(f"cannot read the repository: {exc}") from exc
    if not found:
        raise BackupError(f"no restore point {snapshot!r}: `nubes backup list` shows them")
    info = found[-1]
    snapshot_id = str(info["id"])
    staging = _staging_path(info)
    progress(Progress("manifest"))
    try:
        manifest = json.loads(restic.dump(repository, snapshot_id, f"{staging}/{MANIFEST}"))
    except (ResticError, ValueError) as exc:
        raise BackupError(f"the backup's manifest cannot be read (damaged or tampered with): {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"this backup's format {manifest.get('format')!r} is unknown to Nubes {__version__}")
    engine = str(manifest.get("engine"))
    if (engine == "postgresql") != bool(database_url):
        wanted = "--database-url of an empty PostgreSQL database" if engine == "postgresql" else "no --database-url"
        raise BackupError(f"this backup holds a {engine} database: restore it with {wanted}")
    if database_url:
        _require_empty_postgres(database_url)
    work = data_dir / ".restoring"
    progress(Progress("download"))
    try:
        restic.run(repository, "restore", snapshot_id, "--target", str(work))
    except ResticError as exc:
        raise BackupError(f"restic refused the backup (damaged or tampered with): {exc}") from exc
    restored_staging = work / staging.lstrip("/")
    for name, expected in dict(manifest.get("files", {})).items():
        path = restored_staging / name
        if not path.is_file() or _sha256(path) != expected:
            raise BackupError(f"{name} does not match the manifest's checksum: the backup was tampered with; not restored")
    progress(Progress("database"))
    secret_target = data_dir / SECRET
    shutil.move(restored_staging / SECRET, secret_target)
    secret_target.chmod(0o600)
    if engine == "sqlite":
        target = data_dir / "nubes.db"
        shutil.move(restored_staging / SQLITE_DUMP, target)
        target.chmod(0o600)
    else:
        _run_tool(
            [
                postgres_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "-d",
                libpq_url(database_url),
                str(restored_staging / POSTGRES_DUMP),
            ]
        )
    progress(Progress("place"))
    blobs_source = work / str(manifest["blobs"]["root"]).lstrip("/")
    count = _place_blobs(blobs_source, data_dir=data_dir, storage_url=storage_url, placed=placed_blobs)
    shutil.rmtree(work, ignore_errors=True)
    return Restored(snapshot_id=snapshot_id, engine=engine, migration_head=manifest.get("migration_head"), blobs=count)


def _require_empty_postgres(url: str) -> None:
    query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    tables = _run_tool([postgres_tool("psql"), "-At", "-d", libpq_url(url), "-c", query]).strip()
    if tables != "0":
        raise BackupError("--database-url: that database has tables; restore into a new, empty database")


def _place_blobs(source: Path, *, data_dir: Path, storage_url: str, placed: list[str]) -> int:
    """Move the restored blobs where the target install keeps them: its blobs dir, or its S3 bucket."""
    if not source.is_dir():
        return 0
    if not storage_url.startswith("s3://"):
        target = Path(urlsplit(storage_url).path) if storage_url else data_dir / "blobs"
        if target.exists() and any(target.iterdir()):
            raise BackupError(f"{target} (NUBES_STORAGE_URL) is not empty: restore into an empty blobs directory")
        if target.exists():
            target.rmdir()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        if storage_url:
            placed.append(str(target))
        return sum(1 for path in target.rglob("*") if path.is_file() and path.parent.name != "tmp")
    return asyncio.run(_upload_blobs(source, storage_url, placed))


async def _upload_blobs(source: Path, storage_url: str, placed: list[str]) -> int:
    storage = S3Storage.from_url(storage_url)
    count = 0
    for path in await asyncio.to_thread(_blob_files, source):
        await storage.put(path.name, _read_chunks(path), expected_size=path.stat().st_size)
        placed.append(path.name)
        count += 1
    return count


def _blob_files(source: Path) -> list[Path]:
    return sorted(path for path in source.rglob("*") if path.is_file() and not path.name.startswith("."))


async def _read_chunks(path: Path) -> Any:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _undo(data_dir: Path, *, created_dir: bool, storage_url: str, blobs: list[str]) -> None:
    """Remove everything a failed restore wrote, so nothing half-restored is left to start from."""
    if created_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        for child in list(data_dir.iterdir()) if data_dir.exists() else []:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    if storage_url.startswith("s3://") and blobs:
        with contextlib.suppress(Exception):
            asyncio.run(_delete_uploaded(storage_url, blobs))
    elif blobs:
        for path in blobs:
            shutil.rmtree(path, ignore_errors=True)


async def _delete_uploaded(storage_url: str, keys: list[str]) -> None:
    storage = S3Storage.from_url(storage_url)
    for key in keys:
        await storage.delete(key)


# --- one user's files out of a restore point -------------------------------------------------------


def snapshot_database(repository: Repository, snapshot_id: str, cache: Path) -> tuple[Path, dict[str, Any]]:
    """A restore point's file tree as a SQLite database (fetched once into `cache`, read-only from then on) and its
    manifest: a SQLite backup's own dump, or the `file_nodes` rows of a PostgreSQL backup's dump, in the same shape."""
    if not all(ch in "0123456789abcdef" for ch in snapshot_id) or not snapshot_id:
        raise BackupError("not a restore point id")
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    dump, manifest_file = cache / f"{snapshot_id}.sqlite3", cache / f"{snapshot_id}.json"
    if dump.is_file() and manifest_file.is_file():
        return dump, json.loads(manifest_file.read_text())
    snapshot = restic.snapshots(repository, snapshot_id)[0]
    staging = _staging_path(snapshot)
    manifest = json.loads(restic.dump(repository, snapshot_id, f"{staging}/{MANIFEST}"))
    name = SQLITE_DUMP if manifest.get("engine") == "sqlite" else POSTGRES_DUMP
    partial = cache / f".{snapshot_id}.part"
    partial.write_bytes(restic.dump(repository, snapshot_id, f"{staging}/{name}"))
    partial.chmod(0o600)
    if _sha256(partial) != manifest["files"][name]:
        partial.unlink()
        raise BackupError("the restore point's database does not match its checksum")
    if name == POSTGRES_DUMP:
        tree = cache / f".{snapshot_id}.tree"
        try:
            _file_nodes_as_sqlite(partial, tree)
        finally:
            partial.unlink()
        partial = tree
    partial.rename(dump)
    manifest_file.write_text(json.dumps(manifest))
    return dump, manifest


TREE_COLUMNS = ("id", "tenant_id", "owner_id", "parent_id", "kind", "name", "size", "content_type", "blob_key", "in_trash")
"""The columns of `file_nodes` a per-user restore reads."""


def _file_nodes_as_sqlite(pg_dump: Path, target: Path) -> None:
    """The `file_nodes` rows of a PostgreSQL dump in a SQLite file shaped as a SQLite backup's (UUIDs as 32 hex
    digits, booleans as 0/1), so one reader serves both engines."""
    columns, rows = _copy_rows(pg_dump, "file_nodes")
    missing = [column for column in TREE_COLUMNS if column not in columns]
    if missing:
        raise BackupError(f"the restore point's file table lacks {', '.join(missing)}")
    at = [columns.index(column) for column in TREE_COLUMNS]
    target.unlink(missing_ok=True)
    connection = sqlite3.connect(target)
    try:
        connection.execute(
            "CREATE TABLE file_nodes (id TEXT PRIMARY KEY, tenant_id TEXT, owner_id TEXT, parent_id TEXT, kind TEXT, "
            "name TEXT, size INTEGER, content_type TEXT, blob_key TEXT, in_trash INTEGER)"
        )
        connection.execute("CREATE INDEX ix_parent ON file_nodes (parent_id)")
        connection.executemany(
            "INSERT INTO file_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (_tree_row([row[i] for i in at]) for row in rows)
        )
        connection.commit()
    finally:
        connection.close()
    target.chmod(0o600)


def _tree_row(fields: list[str]) -> tuple[object, ...]:
    node_id, tenant_id, owner_id, parent_id, kind, name, size, content_type, blob_key, in_trash = (
        copy_text(field) for field in fields
    )
    return (
        _hex(node_id), _hex(tenant_id), _hex(owner_id), _hex(parent_id), kind, name,
        int(size or 0), content_type or "", blob_key, 1 if in_trash == "t" else 0,
    )  # fmt: skip


def _hex(value: str | None) -> str | None:
    """A UUID as SQLite stores it (32 hex digits)."""
    return uuid.UUID(value).hex if value else None


_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
"""What COPY TO writes for a backslash and the control characters (it writes every other character as it is)."""


def copy_text(field: str) -> str | None:
    """One field of PostgreSQL's COPY text format as its value: `\\N` is NULL; backslash escapes are undone."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out: list[str] = []
    escaped = False
    for char in field:
        if escaped:
            out.append(_COPY_ESCAPES.get(char, char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def blob_path(manifest: dict[str, Any], key: str) -> str:
    """Where a blob sits inside a snapshot: the local layout (`ab/cd/abcd...`) or the S3 mirror's flat one."""
    root = str(manifest["blobs"]["root"]).rstrip("/")
    if manifest["blobs"].get("storage") == "s3":
        return f"{root}/{key}"
    return f"{root}/{key[:2]}/{key[2:4]}/{key}"
