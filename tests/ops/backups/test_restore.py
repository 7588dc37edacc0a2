"""Backup and restore as an admin would trust them: real `nubes serve` processes, the real `nubes backup` and
`nubes restore`, restic underneath; every file's bytes compared after the install is wiped and brought back."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_database, on_one_engine
from tests.files.conftest import moto_url  # noqa: F401 - the S3-protocol server fixture, shared with the files tests
from tests.serving import ADMIN_PASSWORD, ADMIN_USERNAME, Server, serve

pytestmark = pytest.mark.timeout(900)  # servers start twice, restic runs, on a machine other workers keep busy

PASSWORD = "Copper-Meadow-Violet-77"
CLI_TIMEOUT = 600


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real `nubes` command, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "nubes", *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )


def _env(data_dir: Path, database_url: str, repository: Path, password_file: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
    return env | {
        "NUBES_DATA_DIR": str(data_dir),
        "NUBES_DATABASE_URL": database_url,
        "NUBES_ADMIN_USERNAME": ADMIN_USERNAME,
        "NUBES_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "NUBES_BACKUP_REPOSITORY": str(repository),
        "NUBES_BACKUP_PASSWORD_FILE": str(password_file),
    }


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    """The repository password the admin keeps (mode 0600)."""
    path = tmp_path / "backup-password"
    path.write_text(secrets.token_urlsafe(24) + "\n")
    path.chmod(0o600)
    return path


def _headers(server: Server, username: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{server.url}/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _upload(server: Server, headers: dict[str, str], name: str, data: bytes, parent_id: str | None = None) -> dict[str, str]:
    params = {"name": name} | ({"parent_id": parent_id} if parent_id else {})
    response = httpx.post(f"{server.url}/api/files/upload/raw", params=params, content=data, headers=headers, timeout=60)
    assert response.status_code == 201, response.text
    answer: dict[str, str] = response.json()
    return answer


def _make_install(server: Server) -> dict[str, str]:
    """Two users; folders, files, a file with an earlier version, a share. The SHA-256 of every content, by user/path."""
    admin = _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD)
    made = httpx.post(
        f"{server.url}/api/admin/users", json={"username": "alice", "password": PASSWORD, "roles": ["member"]}, headers=admin
    )
    assert made.status_code == 201, made.text
    bob = httpx.post(
        f"{server.url}/api/admin/users", json={"username": "bob", "password": PASSWORD, "roles": ["member"]}, headers=admin
    )
    assert bob.status_code == 201, bob.text
    alice = _headers(server, "alice", PASSWORD)
    folder = httpx.post(f"{server.url}/api/files/folders", json={"name": "Reports"}, headers=alice)
    assert folder.status_code == 201, folder.text
    for index in range(5):
        _upload(server, alice, f"report-{index}.bin", os.urandom(1000 + index * 70_000), folder.json()["id"])
    doc = _upload(server, alice, "notes.txt", b"first draft\n")
    replaced = httpx.put(f"{server.url}/api/files/{doc['id']}/content", content=b"second draft\n", headers=alice)
    assert replaced.status_code in {200, 201}, replaced.text
    shared = httpx.post(f"{server.url}/api/files/{folder.json()['id']}/shares", json={"user_id": bob.json()["id"]}, headers=alice)
    assert shared.status_code == 201, shared.text
    _upload(server, admin, "admin.bin", os.urandom(300_000))
    return _contents(server, {"alice": alice, "admin": admin})


def _walk(
    server: Server, headers: dict[str, str], folder_id: str | None = None, prefix: str = ""
) -> Iterator[tuple[str, dict[str, str]]]:
    params = {"limit": 500} | ({"parent_id": folder_id} if folder_id else {})
    listing = httpx.get(f"{server.url}/api/files", params=params, headers=headers)
    assert listing.status_code == 200, listing.text
    for item in listing.json()["items"]:
        path = f"{prefix}/{item['name']}"
        if item["kind"] == "folder":
            yield from _walk(server, headers, item["id"], path)
        else:
            yield path, item


def _contents(server: Server, users: dict[str, dict[str, str]]) -> dict[str, str]:
    """Every file's and every earlier version's SHA-256 as downloaded, by user/path(@version)."""
    found: dict[str, str] = {}
    for username, headers in users.items():
        for path, item in _walk(server, headers):
            body = httpx.get(f"{server.url}/api/files/{item['id']}/content", headers=headers, timeout=60)
            assert body.status_code == 200, body.text
            found[f"{username}{path}"] = hashlib.sha256(body.content).hexdigest()
            assert item["sha256"] in {None, found[f"{username}{path}"]}
            versions = httpx.get(f"{server.url}/api/files/{item['id']}/versions", headers=headers)
            assert versions.status_code == 200, versions.text
            for version in versions.json():
                old = httpx.get(
                    f"{server.url}/api/files/{item['id']}/versions/{version['id']}/content", headers=headers, timeout=60
                )
                assert old.status_code == 200, old.text
                found[f"{username}{path}@{version['version_no']}"] = hashlib.sha256(old.content).hexdigest()
    return found


def _shared_with(server: Server, headers: dict[str, str]) -> list[str]:
    with_me = httpx.get(f"{server.url}/api/shares/with-me", headers=headers)
    assert with_me.status_code == 200, with_me.text
    return [item["node"]["name"] for item in with_me.json()["items"]]


def _rows_match_blobs(server: Server, headers: dict[str, str]) -> int:
    """Download every file the database lists; each must come back with the SHA-256 its row records. How many."""
    files = dict(_walk(server, headers))
    for item in files.values():
        body = httpx.get(f"{server.url}/api/files/{item['id']}/content", headers=headers, timeout=60)
        assert body.status_code == 200, body.text
        assert hashlib.sha256(body.content).hexdigest() == item["sha256"]
    return len(files)


def _restore(env: dict[str, str], target: Path, database_url: str, engine_name: str) -> subprocess.CompletedProcess[str]:
    args = ["restore", "latest", "--data-dir", str(target)]
    if engine_name == "postgresql":
        args += ["--database-url", database_url]
    return _cli(env, *args)


def _restored_url(engine_name: str, target: Path, database_url: str) -> str:
    return f"sqlite+aiosqlite:///{target / 'nubes.db'}" if engine_name == "sqlite" else database_url


async def test_backup_wipe_restore_brings_every_byte_back(engine_name: str, tmp_path: Path, password_file: Path) -> None:
    """GIVEN an install with users, folders, files, an earlier version and a share
    WHEN `nubes backup` saves it, the data dir and database are wiped, and `nubes restore latest` brings it back
    into a new, empty data dir (and an empty database)
    THEN users sign in with their passwords, every file and version downloads with the same SHA-256, the share is
    back; and a second restore into the now non-empty dir is refused."""
    repository = tmp_path / "repo"
    async with empty_database(engine_name, tmp_path / "nubes.db") as database_url:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = _env(data_dir, database_url, repository, password_file)
        with serve(database_url, data_dir) as server:
            before = _make_install(server)
            done = _cli(env, "backup")
            assert done.returncode == 0, done.stderr
            assert "verified" in done.stdout
        listed = _cli(env, "backup", "list")
        assert listed.returncode == 0, listed.stderr
        shutil.rmtree(data_dir)
    async with empty_database(engine_name, tmp_path / "unused.db") as fresh_url:
        target = tmp_path / "restored"
        env = _env(tmp_path / "elsewhere", fresh_url, repository, password_file)
        restored = _restore(env, target, fresh_url, engine_name)
        assert restored.returncode == 0, restored.stderr + restored.stdout
        with serve(_restored_url(engine_name, target, fresh_url), target) as server:
            bob = _headers(server, "bob", PASSWORD)
            assert _shared_with(server, bob) == ["Reports"]
            after = _contents(
                server, {"alice": _headers(server, "alice", PASSWORD), "admin": _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD)}
            )
        assert after == before
        assert any("@" in key for key in after)  # the earlier version came back too
        again = _restore(env, target, fresh_url, engine_name)
        assert again.returncode != 0
        assert "not empty" in again.stderr


async def test_backup_while_uploads_run_is_consistent(engine_name: str, tmp_path: Path, password_file: Path) -> None:
    """GIVEN a server receiving uploads and deletions without pause
    WHEN `nubes backup` runs meanwhile and the backup is restored
    THEN every file the restored database lists downloads, with the SHA-256 its row records: DB and blobs agree."""
    repository = tmp_path / "repo"
    async with empty_database(engine_name, tmp_path / "nubes.db") as database_url:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = _env(data_dir, database_url, repository, password_file)
        with serve(database_url, data_dir) as server:
            admin = _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD)
            stop = threading.Event()

            def churn() -> None:
                index = 0
                while not stop.is_set():
                    made = _upload(server, admin, f"busy-{index}.bin", os.urandom(20_000 + index))
                    if index % 3 == 0:
                        httpx.delete(f"{server.url}/api/files/{made['id']}", headers=admin, timeout=60)
                    index += 1

            worker = threading.Thread(target=churn, daemon=True)
            worker.start()
            try:
                done = _cli(env, "backup")
            finally:
                stop.set()
                worker.join(timeout=60)
            assert done.returncode == 0, done.stderr
    async with empty_database(engine_name, tmp_path / "unused.db") as fresh_url:
        target = tmp_path / "restored"
        restored = _restore(_env(tmp_path / "elsewhere", fresh_url, repository, password_file), target, fresh_url, engine_name)
        assert restored.returncode == 0, restored.stderr + restored.stdout
        with serve(_restored_url(engine_name, target, fresh_url), target) as server:
            admin = _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD)
            assert _rows_match_blobs(server, admin)  # some uploads had landed before the database was dumped


@on_one_engine("sqlite")  # restic refuses the damaged packs before any database is read: the engine plays no part
async def test_tampered_backup_is_refused(engine_name: str, tmp_path: Path, password_file: Path) -> None:
    """GIVEN a backup whose repository pack files were modified on the backup disk
    WHEN it is restored
    THEN the restore fails with a message saying the backup is damaged or tampered with, and leaves nothing behind."""
    repository = tmp_path / "repo"
    async with empty_database(engine_name, tmp_path / "nubes.db") as database_url:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = _env(data_dir, database_url, repository, password_file)
        with serve(database_url, data_dir) as server:
            _upload(server, _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD), "precious.bin", os.urandom(200_000))
            done = _cli(env, "backup")
            assert done.returncode == 0, done.stderr
    for pack in (repository / "data").rglob("*"):
        if pack.is_file():
            pack.chmod(0o600)
            damaged = bytearray(pack.read_bytes())
            middle = len(damaged) // 2
            damaged[middle : middle + 4] = bytes(byte ^ 0xFF for byte in damaged[middle : middle + 4])
            pack.write_bytes(bytes(damaged))
    async with empty_database(engine_name, tmp_path / "unused.db") as fresh_url:
        target = tmp_path / "restored"
        refused = _restore(_env(tmp_path / "elsewhere", fresh_url, repository, password_file), target, fresh_url, engine_name)
        assert refused.returncode != 0
        assert "tampered" in refused.stderr
        assert "nothing was restored" in refused.stderr
        assert not target.exists()


def _restore_own_file(server: Server, headers: dict[str, str], name: str) -> bytes:
    """Pick the newest restore point, find `name` in one's root there, restore it to the trash, then out of the trash."""
    points = httpx.get(f"{server.url}/api/ops/backups/restore-points", headers=headers)
    assert points.status_code == 200, points.text
    point = points.json()["items"][0]["id"]
    listed = httpx.get(f"{server.url}/api/ops/backups/restore-points/{point}/files", headers=headers, timeout=120)
    assert listed.status_code == 200, listed.text
    wanted = next(item for item in listed.json()["items"] if item["name"] == name)
    restored = httpx.post(
        f"{server.url}/api/ops/backups/restore-points/{point}/files/{wanted['id']}/restore", headers=headers, timeout=120
    )
    assert restored.status_code == 201, restored.text
    trashed = restored.json()["trashed_id"]
    back = httpx.post(f"{server.url}/api/trash/{trashed}/restore", headers=headers)
    assert back.status_code == 200, back.text
    folder = dict(_walk(server, headers, trashed))
    (only,) = folder.values()
    body = httpx.get(f"{server.url}/api/files/{only['id']}/content", headers=headers)
    assert body.status_code == 200, body.text
    return body.content


def _overwrite(server: Server, headers: dict[str, str], file_id: str, data: bytes) -> None:
    changed = httpx.put(f"{server.url}/api/files/{file_id}/content", content=data, headers=headers)
    assert changed.status_code == 200, changed.text


def _someone_elses(server: Server, headers: dict[str, str], file_id: str) -> int:
    point = httpx.get(f"{server.url}/api/ops/backups/restore-points", headers=headers).json()["items"][0]["id"]
    return httpx.post(
        f"{server.url}/api/ops/backups/restore-points/{point}/files/{file_id}/restore", headers=headers, timeout=120
    ).status_code


async def test_user_restores_own_file_and_folder_into_trash(engine_name: str, tmp_path: Path, password_file: Path) -> None:
    """GIVEN a backup, after which a user overwrote a file and deleted a folder (odd names inside)
    WHEN they restore that file, then the folder, from the restore point (SQLite's dump, or PostgreSQL's read as COPY)
    THEN copies with the old bytes land in their trash, the trash-restore brings them back, and another user cannot
    restore them (not theirs); WHEN a restore cannot fit their quota THEN it fails whole: nothing of it is left."""
    repository = tmp_path / "repo"
    async with empty_database(engine_name, tmp_path / "nubes.db") as database_url:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = _env(data_dir, database_url, repository, password_file)
        backup_env = {"NUBES_BACKUP_REPOSITORY": str(repository), "NUBES_BACKUP_PASSWORD_FILE": str(password_file)}
        with serve(database_url, data_dir, **backup_env) as server:
            _restore_file_folder_and_too_much(server, env)


def _restore_file_folder_and_too_much(server: Server, env: dict[str, str]) -> None:
    _make_install(server)
    alice = _headers(server, "alice", PASSWORD)
    notes = next(item for path, item in _walk(server, alice) if path == "/notes.txt")
    trip = _odd_folder(server, alice)
    before = {path: item["sha256"] for path, item in _walk(server, alice, trip["id"])}
    done = _cli(env, "backup")
    assert done.returncode == 0, done.stderr
    _overwrite(server, alice, notes["id"], b"overwritten\n")
    assert _restore_own_file(server, alice, "notes.txt") == b"second draft\n"
    assert _someone_elses(server, _headers(server, "bob", PASSWORD), notes["id"]) == 404
    assert httpx.delete(f"{server.url}/api/files/{trip['id']}", headers=alice).status_code in {200, 204}

    restored = _restore_own(server, alice, trip["name"])
    assert restored.status_code == 201, restored.text
    holder = restored.json()["trashed_id"]
    back = httpx.post(f"{server.url}/api/trash/{holder}/restore", headers=alice)
    assert back.status_code == 200, back.text
    again = {path.removeprefix(f"/{trip['name']}"): item["sha256"] for path, item in _walk(server, alice, holder)}
    assert again == before

    admin = _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD)
    used = httpx.get(f"{server.url}/api/users/me/quota", headers=alice).json()["used_bytes"]
    me = httpx.get(f"{server.url}/api/users/me", headers=alice).json()["user"]
    limited = httpx.put(f"{server.url}/api/admin/users/{me['id']}/quota", json={"quota_bytes": used + 120_000}, headers=admin)
    assert limited.status_code == 204, limited.text
    tree_then, trash_then = _everything(server, alice)
    refused = _restore_own(server, alice, trip["name"])
    assert refused.status_code in {413, 507}, refused.text
    assert refused.json()["type"] == "urn:nubes:problem:quota-exceeded"
    assert refused.json()["detail"].startswith("Nothing was restored: ")
    assert _everything(server, alice) == (tree_then, trash_then)


def _odd_folder(server: Server, headers: dict[str, str]) -> dict[str, str]:
    """A folder with a sub-folder and files whose names COPY has to escape or carry as UTF-8."""
    made = httpx.post(f"{server.url}/api/files/folders", json={"name": "Trip \\ Zürich ✓"}, headers=headers)
    assert made.status_code == 201, made.text
    day = httpx.post(f"{server.url}/api/files/folders", json={"name": "day\\1", "parent_id": made.json()["id"]}, headers=headers)
    assert day.status_code == 201, day.text
    _upload(server, headers, "map.bin", os.urandom(90_000), made.json()["id"])
    _upload(server, headers, "ünïcode \\ back.txt", b"back\\slash\n", day.json()["id"])
    _upload(server, headers, "photo.bin", os.urandom(80_000), day.json()["id"])
    folder: dict[str, str] = made.json()
    return folder


def _restore_own(server: Server, headers: dict[str, str], name: str) -> httpx.Response:
    """Restore `name` of one's root from the newest restore point."""
    point = httpx.get(f"{server.url}/api/ops/backups/restore-points", headers=headers).json()["items"][0]["id"]
    listed = httpx.get(f"{server.url}/api/ops/backups/restore-points/{point}/files", headers=headers, timeout=120)
    assert listed.status_code == 200, listed.text
    wanted = next(item for item in listed.json()["items"] if item["name"] == name)
    return httpx.post(
        f"{server.url}/api/ops/backups/restore-points/{point}/files/{wanted['id']}/restore", headers=headers, timeout=120
    )


def _everything(server: Server, headers: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every path of one's tree, and every name in one's trash."""
    trash = httpx.get(f"{server.url}/api/trash", params={"limit": 200}, headers=headers)
    assert trash.status_code == 200, trash.text
    return sorted(path for path, _item in _walk(server, headers)), sorted(item["name"] for item in trash.json()["items"])


def _bucket(endpoint: str) -> str:
    name = f"b-{secrets.token_hex(6)}"
    httpx.put(f"{endpoint}/{name}").raise_for_status()
    return name


async def test_s3_blobs_and_s3_repository_round_trip(tmp_path: Path, password_file: Path, request: pytest.FixtureRequest) -> None:
    """GIVEN an install whose blobs live in an S3 bucket, backed up into a restic repository in another bucket
    WHEN it is restored into a new data dir and a third, empty bucket
    THEN every file downloads with the same SHA-256."""
    endpoint: str = request.getfixturevalue("moto_url")
    query = f"endpoint={endpoint}&access_key_id=test&secret_access_key=test&region=us-east-1"
    storage_url = f"s3://{_bucket(endpoint)}?{query}"
    s3_env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    repository = f"s3:{endpoint}/{_bucket(endpoint)}"
    async with empty_database("sqlite", tmp_path / "nubes.db") as database_url:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = _env(data_dir, database_url, Path("unused"), password_file) | s3_env
        env |= {"NUBES_BACKUP_REPOSITORY": repository, "NUBES_STORAGE_URL": storage_url}
        with serve(database_url, data_dir, NUBES_STORAGE_URL=storage_url) as server:
            admin = _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD)
            for index in range(4):
                _upload(server, admin, f"object-{index}.bin", os.urandom(50_000 + index))
            before = _contents(server, {"admin": admin})
            done = _cli(env, "backup")
            assert done.returncode == 0, done.stderr
    target = tmp_path / "restored"
    restore_storage = f"s3://{_bucket(endpoint)}?{query}"
    restored = _cli(env, "restore", "latest", "--data-dir", str(target), "--storage-url", restore_storage)
    assert restored.returncode == 0, restored.stderr + restored.stdout
    restored_url = f"sqlite+aiosqlite:///{target / 'nubes.db'}"
    with serve(restored_url, target, NUBES_STORAGE_URL=restore_storage) as server:
        after = _contents(server, {"admin": _headers(server, ADMIN_USERNAME, ADMIN_PASSWORD)})
    assert after == before
