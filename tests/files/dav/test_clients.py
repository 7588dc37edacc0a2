"""Real WebDAV clients against a real `nubes serve` on each engine: rclone, a davfs2 mount, and cadaver.

- **rclone** (Debian's; `webdav` backend, vendor `other` at `/dav/files/<user>/` and vendor `nextcloud` at
  `/remote.php/dav/files/<user>/`, a config made of `RCLONE_CONFIG_NUBES_*` variables, the app password obscured with
  `rclone obscure`): a tree of odd names up, `rclone check` (sizes, and the bytes with `--download`), synced back down
  into an empty folder and compared byte for byte, then copied, moved and purged on the server; 2,000 small files with
  `--transfers 8`; a 1 GiB file (`test_rclone_1gib_file`, select it with `-k 1gib`); a personal access token as
  rclone's bearer token, and an app password revoked under a running client.
  Nubes stores names in Unicode NFC (as the REST API does), so a name sent in NFD comes back in NFC: the comparisons
  are of NFC names; rclone itself compares names normalized.
- **davfs2** (a FUSE mount; it needs root and /dev/fuse, which `make test` has here): write, read, rename, make a
  folder and delete through the mount, with davfs2's WebDAV locks on, and see each change through the REST API.
  Listing a mounted folder (readdir) fails with EINVAL here against any server, Apache's mod_dav included (davfs2
  1.6.1 on this machine's 6.18 kernel; davfs2 speaks the FUSE kernel protocol itself), so it is not Nubes': the test
  reaches everything by name and lists through the REST API instead.
- **cadaver** (scripted on its stdin, credentials in a `.netrc`; a personal access token as the password): make a
  folder, upload, move, list, download, delete.

Each test works in a folder of its own on a server of the module's, signed in with an app password of the first admin
(HTTP Basic), except cadaver's, which uses a personal access token.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_database, on_one_engine
from tests.serving import Server, serve

RCLONE = "/usr/bin/rclone"
MOUNT_DAVFS = "/usr/sbin/mount.davfs"
CADAVER = "/usr/bin/cadaver"
UPLOAD_WAIT_S = 30
# A name of every kind clients and URLs trip over: non-ASCII in NFC and NFD, spaces, URL delimiters, quotes.
ODD_NAMES = (
    "café NFC.txt",
    unicodedata.normalize("NFD", "résumé NFD.txt"),
    "two  spaces .txt",
    "hash#tag.txt",
    "per%cent 20%.txt",
    "%2e%2e.txt",
    "amp&ersand=1.txt",
    "quote'single.txt",
    'quote"double.txt',
    "plus+sign;semi.txt",
    "question?.txt",
    "日本語 ファイル.txt",
)
ODD_FOLDERS = ("sub dir #1", unicodedata.normalize("NFD", "Ordner ü%20"), "a&b 'c'")


@dataclass(frozen=True)
class Account:
    """The first admin of the module's server, with the credentials the clients use."""

    server: Server
    username: str
    app_password: str
    token: str  # a personal access token (nbp_...) with files.read and files.write: cadaver's, and the REST checks'

    @property
    def dav_url(self) -> str:
        return f"{self.server.url}/dav/files/{self.username}/"


@pytest.fixture(scope="module")
async def clients_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database of its own on the engine under test."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("dav-clients-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def clients_server(clients_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the module's own."""
    with serve(clients_database_url, tmp_path_factory.mktemp("dav-clients")) as running:
        yield running


@pytest.fixture(scope="module")
def account(clients_server: Server) -> Account:
    """The first admin, signed in, with an app password (as a user makes one in the account page) and a personal access
    token (which outlives a session's access token, however long the module runs)."""
    access_token = clients_server.admin_token()
    headers = {"Authorization": f"Bearer {access_token}"}
    made = httpx.post(f"{clients_server.url}/api/users/me/app-passwords", json={"name": "rclone"}, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["webdav_url"] == f"{clients_server.url}/dav/files/{clients_server.admin_username}/"
    pat = httpx.post(
        f"{clients_server.url}/api/users/me/tokens",
        json={"name": "cadaver", "scopes": ["files.read", "files.write"]},
        headers=headers,
    )
    assert pat.status_code == 201, pat.text
    return Account(
        server=clients_server,
        username=clients_server.admin_username,
        app_password=made.json()["password"],
        token=pat.json()["token"],
    )


def _require(binary: str, package: str) -> None:
    if not Path(binary).is_file():
        pytest.fail(f"{binary} is not installed: `make test-deps` installs it (Debian package {package})")


# --- the REST API's view of the tree ---------------------------------------------------------------------------------


def rest_children(account: Account, folder_path: str = "") -> dict[str, dict[str, object]]:
    """The entries of the folder at `folder_path` (names joined by `/`) as the REST API lists them, by name."""
    headers = {"Authorization": f"Bearer {account.token}"}
    parent: str | None = None
    for name in [part for part in folder_path.split("/") if part]:
        entries = rest_children_of(account, parent, headers)
        assert name in entries, f"{name!r} not in {sorted(entries)}"
        parent = str(entries[name]["id"])
    return rest_children_of(account, parent, headers)


def rest_children_of(account: Account, parent: str | None, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    params: dict[str, str | int] = {"limit": 500}
    if parent is not None:
        params["parent_id"] = parent
    answer = httpx.get(f"{account.server.url}/api/files", params=params, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] <= 500
    return {item["name"]: item for item in answer.json()["items"]}


# --- rclone ------------------------------------------------------------------------------------------------------------


# Where each vendor's users point rclone: WebDAV's own mount, or the path Nextcloud's clients use (an alias of it).
VENDOR_MOUNTS = {"other": "/dav/files", "nextcloud": "/remote.php/dav/files"}


def rclone_env(account: Account, vendor: str, home: Path) -> dict[str, str]:
    """rclone's environment: a remote `nubes:` made of variables (no config file of the machine's is read), at the
    vendor's usual URL."""
    _require(RCLONE, "rclone")
    config = home / "rclone.conf"
    config.touch()
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("RCLONE_")},
        "HOME": str(home),
        "RCLONE_CONFIG": str(config),
        "RCLONE_CONFIG_NUBES_TYPE": "webdav",
        "RCLONE_CONFIG_NUBES_URL": f"{account.server.url}{VENDOR_MOUNTS[vendor]}/{account.username}/",
        "RCLONE_CONFIG_NUBES_VENDOR": vendor,
        "RCLONE_CONFIG_NUBES_USER": account.username,
        "RCLONE_CONFIG_NUBES_PASS": _obscure(account.app_password),
    }


def _obscure(password: str) -> str:
    """`password` as rclone's config holds it (`rclone obscure`)."""
    done = subprocess.run([RCLONE, "obscure", password], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def rclone(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run rclone; its output (stdout and stderr), which must end in success."""
    done = subprocess.run([RCLONE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"rclone {' '.join(args)} exited with {done.returncode}:\n{output[-4000:]}"
    return output


def copied(output: str) -> list[str]:
    """The lines of an `rclone -v` run that say a file was sent."""
    return [line for line in output.splitlines() if ": Copied " in line]


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under `root` by its relative path in NFC, with its bytes."""
    return {
        unicodedata.normalize("NFC", path.relative_to(root).as_posix()): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def make_odd_tree(root: Path) -> None:
    """The odd names at the top and in each odd folder, each file with contents of its own."""
    for folder in ("", *ODD_FOLDERS):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for index, name in enumerate(ODD_NAMES):
            (root / folder / name).write_bytes(f"{folder}/{name} #{index}\n".encode() * (index + 1))
    (root / ODD_FOLDERS[0] / "empty.bin").write_bytes(b"")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("vendor", ["other", "nextcloud"])
def test_rclone_odd_names_up_check_and_back_down(account: Account, vendor: str, tmp_path: Path) -> None:
    """GIVEN a tree with NFC and NFD names, spaces, `#`, `%`, `&`, quotes WHEN rclone copies it up THEN `rclone check`
    finds no difference (sizes, and the bytes with --download), the REST API lists the names as sent (in NFC), a
    sync back down into an empty folder gives the same bytes under the same names, and server-side copy, move and purge
    keep them too."""
    env = rclone_env(account, vendor, tmp_path)
    source, back = tmp_path / "source", tmp_path / "back"
    make_odd_tree(source)
    remote = f"nubes:odd-{vendor}"

    rclone(env, "copy", str(source), remote, "-v")
    assert "0 differences found" in rclone(env, "check", str(source), remote)
    checked = rclone(env, "check", "--download", str(source), remote)
    assert "0 differences found" in checked
    assert f"{len(tree_files(source))} matching files" in checked

    top = rest_children(account, f"odd-{vendor}")
    assert set(top) == {unicodedata.normalize("NFC", name) for name in (*ODD_NAMES, *ODD_FOLDERS)}
    assert set(rest_children(account, f"odd-{vendor}/{ODD_FOLDERS[0]}")) == {
        unicodedata.normalize("NFC", name) for name in (*ODD_NAMES, "empty.bin")
    }
    assert top["hash#tag.txt"]["size"] == (source / "hash#tag.txt").stat().st_size

    back.mkdir()
    rclone(env, "sync", remote, str(back))
    assert tree_files(back) == tree_files(source)
    if vendor == "other":  # rclone compares sizes only; with nextcloud also times (test_..._keeps_modification_times)
        assert copied(rclone(env, "copy", str(source), remote, "-v")) == []
    assert copied(rclone(env, "sync", remote, str(back), "-v")) == []

    # On the server: a COPY of each file into a new tree, a MOVE of that tree, a DELETE of it (rclone purge).
    rclone(env, "copy", remote, f"{remote} copy #2")
    rclone(env, "moveto", f"{remote} copy #2", f"{remote} moved %3")
    assert "0 differences found" in rclone(env, "check", "--download", str(source), f"{remote} moved %3")
    rclone(env, "purge", f"{remote} moved %3")
    assert {f"odd-{vendor} copy #2", f"odd-{vendor} moved %3"}.isdisjoint(rest_children(account, ""))


# On SQLite only: its one writer is where rclone's parallel uploads contend; the other rclone tests run on both engines.
@on_one_engine("sqlite")
@pytest.mark.timeout(900)
def test_rclone_2000_small_files(account: Account, tmp_path: Path) -> None:
    """GIVEN 2,000 small files in 20 folders WHEN rclone copies them with 8 transfers at a time THEN `rclone check`
    finds every one and no difference, a sync back down gives the same bytes, and a second copy sends nothing."""
    env = rclone_env(account, "other", tmp_path)
    source, back = tmp_path / "source", tmp_path / "back"
    for index in range(2000):
        folder = source / f"folder {index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note {index:04d}.txt").write_bytes(f"small file {index}\n".encode() * (index % 50 + 1))
    remote = "nubes:many"

    sent = rclone(env, "copy", str(source), remote, "--transfers", "8", "-v")
    assert len(copied(sent)) == 2000
    checked = rclone(env, "check", str(source), remote)
    assert "0 differences found" in checked
    assert "2000 matching files" in checked
    assert len(rest_children(account, "many")) == 20
    assert len(rest_children(account, "many/folder 07")) == 100

    back.mkdir()
    rclone(env, "sync", remote, str(back), "--transfers", "8")
    assert tree_files(back) == tree_files(source)
    assert copied(rclone(env, "copy", str(source), remote, "--transfers", "8", "-v")) == []


@pytest.mark.timeout(300)
def test_rclone_with_a_bearer_token_and_a_revoked_app_password(account: Account, tmp_path: Path) -> None:
    """GIVEN rclone with a personal access token as its bearer token THEN it copies and checks a file; GIVEN rclone with
    an app password of its own WHEN the user revokes that app password THEN rclone's next call is refused (401)."""
    env = rclone_env(account, "other", tmp_path)
    bearer = {
        key: value for key, value in env.items() if not key.startswith(("RCLONE_CONFIG_NUBES_USER", "RCLONE_CONFIG_NUBES_PASS"))
    }
    bearer["RCLONE_CONFIG_NUBES_BEARER_TOKEN"] = account.token
    source = tmp_path / "source"
    source.mkdir()
    (source / "by bearer.txt").write_text("sent with a bearer token\n")
    rclone(bearer, "copy", str(source), "nubes:bearer")
    assert "0 differences found" in rclone(bearer, "check", "--download", str(source), "nubes:bearer")

    headers = {"Authorization": f"Bearer {account.server.admin_token()}"}
    made = httpx.post(f"{account.server.url}/api/users/me/app-passwords", json={"name": "lost phone"}, headers=headers)
    assert made.status_code == 201, made.text
    device = {**env, "RCLONE_CONFIG_NUBES_PASS": _obscure(made.json()["password"])}
    assert "by bearer.txt" in rclone(device, "ls", "nubes:bearer")
    revoked = httpx.delete(f"{account.server.url}/api/users/me/app-passwords/{made.json()['id']}", headers=headers)
    assert revoked.status_code == 204, revoked.text
    refused = subprocess.run(
        [RCLONE, "ls", "nubes:bearer", "--retries", "1", "--low-level-retries", "1"],
        env=device,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0
    assert "401" in refused.stderr, refused.stderr


GIB = 1 << 30
BLOCK = 1 << 20


def _write_big_file(path: Path) -> str:
    """1 GiB of blocks that all differ (a block's number hashed, repeated), written once; its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for index in range(GIB // BLOCK):
            block = hashlib.sha256(index.to_bytes(4, "big")).digest() * (BLOCK // 32)
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


@pytest.mark.timeout(900)
def test_rclone_1gib_file(account: Account, tmp_path: Path) -> None:
    """GIVEN a 1 GiB file WHEN rclone copies it up THEN `rclone check` finds no difference, the server's SHA-256 of it
    is the file's, and what `rclone cat` reads back hashes the same."""
    env = rclone_env(account, "other", tmp_path)
    source = tmp_path / "big"
    source.mkdir()
    expected = _write_big_file(source / "big file.bin")
    try:
        rclone(env, "copy", str(source), "nubes:big", timeout=800)
        checked = rclone(env, "check", str(source), "nubes:big")
        assert "0 differences found" in checked
        assert "1 matching files" in checked
        stored = rest_children(account, "big")["big file.bin"]
        assert stored["size"] == GIB
        assert stored["sha256"] == expected

        digest = hashlib.sha256()
        size = 0
        with subprocess.Popen([RCLONE, "cat", "nubes:big/big file.bin"], env=env, stdout=subprocess.PIPE) as reader:
            assert reader.stdout is not None
            while chunk := reader.stdout.read(BLOCK):
                digest.update(chunk)
                size += len(chunk)
        assert reader.returncode == 0
        assert size == GIB
        assert digest.hexdigest() == expected
    finally:
        shutil.rmtree(source, ignore_errors=True)  # 1 GiB less on the shared disk right away


@pytest.mark.timeout(300)
def test_rclone_nextcloud_keeps_modification_times(account: Account, tmp_path: Path) -> None:
    """GIVEN files last modified in 2020 WHEN rclone (vendor nextcloud, which sends `X-OC-Mtime`) copies them up THEN
    the server keeps those times, and a second copy sends nothing."""
    env = rclone_env(account, "nextcloud", tmp_path)
    source = tmp_path / "source"
    source.mkdir()
    old = 1_577_934_245  # 2020-01-02 03:04:05 UTC
    for name in ("a.txt", "b.txt"):
        (source / name).write_text(name)
        os.utime(source / name, (old, old))
    rclone(env, "copy", str(source), "nubes:mtimes")
    listed = json.loads(rclone(env, "lsjson", "nubes:mtimes"))
    assert {entry["Name"]: entry["ModTime"][:19] for entry in listed} == {
        "a.txt": "2020-01-02T03:04:05",
        "b.txt": "2020-01-02T03:04:05",
    }
    assert copied(rclone(env, "copy", str(source), "nubes:mtimes", "-v")) == []


# --- davfs2 -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def davfs2_mount(account: Account, tmp_path: Path) -> Iterator[Path]:
    """The admin's tree mounted with davfs2 (locks on, uploads when a file is closed); unmounted afterwards."""
    _require(MOUNT_DAVFS, "davfs2")
    if os.geteuid() != 0:
        pytest.skip("mounting with davfs2 needs root here (make test runs as root)")
    if not Path("/dev/fuse").exists():
        pytest.skip("no /dev/fuse: davfs2 cannot mount")
    mountpoint, config = tmp_path / "mnt", tmp_path / "davfs2"
    mountpoint.mkdir()
    config.mkdir()
    # davfs2 runs as its own user (`davfs2`), which must reach and write its cache: not under pytest's private tmp.
    cache = Path(tempfile.mkdtemp(prefix="nubes-davfs2-cache-"))
    shutil.chown(cache, group="davfs2")
    cache.chmod(0o775)
    secrets = config / "secrets"
    secrets.write_text(f"{account.dav_url} {account.username} {account.app_password}\n")
    secrets.chmod(0o600)
    (config / "davfs2.conf").write_text(
        f"secrets {secrets}\ncache_dir {cache}\nuse_locks 1\ndelay_upload 0\ndir_refresh 1\nask_auth 0\n"
    )
    mounted = subprocess.run(
        [MOUNT_DAVFS, account.dav_url, str(mountpoint), "-o", f"conf={config / 'davfs2.conf'}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert mounted.returncode == 0, mounted.stdout + mounted.stderr
    try:
        yield mountpoint
    finally:
        # umount.davfs waits for davfs2 to upload what it still holds, then ends its daemon.
        subprocess.run(["umount", str(mountpoint)], capture_output=True, timeout=120, check=False)
        shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.timeout(300)
def test_davfs2_mount_write_read_rename_delete(account: Account, davfs2_mount: Path) -> None:
    """GIVEN the tree mounted with davfs2 WHEN files are written, read, renamed, moved into a new folder, appended to and
    deleted through the mount THEN the REST API sees each change (the bytes too), and a file made through the REST API
    reads through the mount."""
    top = davfs2_mount / "davfs2 mount #1"
    top.mkdir()
    assert rest_children(account, "davfs2 mount #1") == {}

    first = "written through the mount\n"
    (top / "notes 100%.txt").write_text(first)
    assert (top / "notes 100%.txt").read_text() == first
    assert rest_content(account, "davfs2 mount #1", "notes 100%.txt", len(first)) == first.encode()

    (top / "notes 100%.txt").rename(top / "renamed é.txt")
    assert set(rest_children(account, "davfs2 mount #1")) == {"renamed é.txt"}

    (top / "inner").mkdir()
    (top / "renamed é.txt").rename(top / "inner" / "moved.txt")
    assert set(rest_children(account, "davfs2 mount #1")) == {"inner"}
    assert set(rest_children(account, "davfs2 mount #1/inner")) == {"moved.txt"}

    with (top / "inner" / "moved.txt").open("a") as handle:
        handle.write("and more\n")
    expected = f"{first}and more\n".encode()
    assert rest_content(account, "davfs2 mount #1/inner", "moved.txt", len(expected)) == expected

    folder_id = rest_children(account, "")["davfs2 mount #1"]["id"]
    made = httpx.post(
        f"{account.server.url}/api/files/upload/raw",
        params={"name": "from rest.txt", "parent_id": str(folder_id)},
        content=b"made through the REST API\n",
        headers={"Authorization": f"Bearer {account.token}"},
    )
    assert made.status_code == 201, made.text
    # davfs2 trusts what it knows of a folder for `dir_refresh` seconds (1 here) before it asks again.
    deadline = time.monotonic() + UPLOAD_WAIT_S
    while not (top / "from rest.txt").exists():
        assert time.monotonic() < deadline, "a file made through the REST API never showed in the mount"
        time.sleep(0.5)
    assert (top / "from rest.txt").read_bytes() == b"made through the REST API\n"

    (top / "inner" / "moved.txt").unlink()
    (top / "inner").rmdir()
    (top / "from rest.txt").unlink()
    assert rest_children(account, "davfs2 mount #1") == {}


def rest_content(account: Account, folder_path: str, name: str, size: int) -> bytes:
    """The bytes of a file written through the mount, once the REST API lists it at `size`.

    davfs2 uploads a file when it is closed, but the kernel tells it so after `close()` has returned: wait for it.
    """
    deadline = time.monotonic() + UPLOAD_WAIT_S
    while True:
        found = rest_children(account, folder_path).get(name)
        if found is not None and found["size"] == size:
            break
        assert time.monotonic() < deadline, f"{folder_path}/{name} is {found} after {UPLOAD_WAIT_S} s, not {size} bytes"
        time.sleep(0.2)
    answer = httpx.get(
        f"{account.server.url}/api/files/{found['id']}/content",
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return answer.content


# --- cadaver ------------------------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_cadaver_script(account: Account, tmp_path: Path) -> None:
    """GIVEN cadaver signed in with a personal access token WHEN a script makes a folder, uploads, moves, lists,
    downloads and deletes THEN each step succeeds and the REST API sees the result."""
    _require(CADAVER, "cadaver")
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin {account.username}\npassword {account.token}\n")
    netrc.chmod(0o600)
    upload = tmp_path / "upload.txt"
    upload.write_bytes(b"sent by cadaver\n" * 100)
    download = tmp_path / "download.txt"
    script = "\n".join(
        [
            "mkcol cadaver-dir",
            f"put {upload} cadaver-dir/first.txt",
            "move cadaver-dir/first.txt cadaver-dir/second.txt",
            "ls cadaver-dir",
            f"get cadaver-dir/second.txt {download}",
            "quit",
            "",
        ]
    )
    done = subprocess.run(
        [CADAVER, account.dav_url],
        input=script,
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "failed" not in output.lower(), output
    assert output.count("succeeded") == 5, output
    assert "second.txt" in output
    assert download.read_bytes() == upload.read_bytes()
    listed = rest_children(account, "cadaver-dir")
    assert set(listed) == {"second.txt"}
    assert listed["second.txt"]["size"] == len(upload.read_bytes())

    deleted = subprocess.run(
        [CADAVER, account.dav_url],
        input="delete cadaver-dir/second.txt\nrmcol cadaver-dir\nquit\n",
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert deleted.stdout.count("succeeded") == 2, deleted.stdout + deleted.stderr
    assert "cadaver-dir" not in rest_children(account, "")
