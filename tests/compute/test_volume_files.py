"""The agent's resolver of container paths, directly: every escape refused, with openat2 and with the fd walk."""

from __future__ import annotations

import functools
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nubes.agent import files
from nubes.agent.files import FileError, VolumeFiles, components

SECRET = "outside-the-volume\n"


@pytest.fixture(params=["openat2", "walk"])
def volume(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VolumeFiles]:
    """A volume with a file, a folder, and a secret beside it (outside); resolved both ways."""
    if request.param == "walk":
        monkeypatch.setattr(files, "_openat2_works", False)
    elif files._syscall is None:
        pytest.skip("no libc syscall() here")
    root = tmp_path / "volume"
    (root / "config").mkdir(parents=True)
    (root / "config" / "server.properties").write_text("motd=hi\n")
    (root / "hello.txt").write_text("hello\n")
    (tmp_path / "secret.txt").write_text(SECRET)
    yield VolumeFiles(root)
    if request.param == "openat2":
        assert files._openat2_works is not False, "this kernel has openat2: the test must have used it"


def _refused(call: Callable[[], object], status: int | None = None) -> FileError:
    with pytest.raises(FileError) as refused:
        call()
    if status is not None:
        assert refused.value.status == status, refused.value.message
    return refused.value


@pytest.mark.parametrize(
    "path",
    ["../secret.txt", "../../etc/passwd", "config/../../secret.txt", "/etc/passwd", "a\x00b", "..", "x/" + "n" * 300],
)
def test_paths_that_could_leave_the_root_are_refused_before_any_system_call(path: str) -> None:
    error = _refused(lambda: components(path), 400)
    assert error.message


def test_reads_lists_and_writes_inside_the_root(volume: VolumeFiles) -> None:
    assert [entry.name for entry in volume.list("")] == ["config", "hello.txt"]
    assert [entry.kind for entry in volume.list("")] == ["directory", "file"]
    assert volume.read("config/server.properties", 0, 100) == (b"motd=hi\n", 8)
    assert volume.read("./config//server.properties", 5, 100) == (b"hi\n", 8)
    upload = uuid.uuid4()
    volume.write_chunk("config/new.txt", upload, 0, b"abc")
    volume.write_chunk("config/new.txt", upload, 3, b"def")
    assert not (volume.root / "config" / "new.txt").exists(), "invisible until committed"
    assert volume.commit("config/new.txt", upload).size == 6
    assert (volume.root / "config" / "new.txt").read_bytes() == b"abcdef"
    volume.mkdir("data")
    volume.rename("hello.txt", "data/hello.txt")
    assert (volume.root / "data" / "hello.txt").read_text() == "hello\n"
    _refused(lambda: volume.rename("config/new.txt", "data/hello.txt"), 409)
    volume.delete("data")
    assert not (volume.root / "data").exists()
    _refused(lambda: volume.read("missing", 0, 10), 404)
    _refused(lambda: volume.read("config", 0, 10), 409)


def test_symlinks_are_never_followed(volume: VolumeFiles) -> None:
    root = volume.root
    (root / "to-root").symlink_to("/")
    (root / "to-secret").symlink_to(root.parent / "secret.txt")
    (root / "inside").symlink_to("hello.txt")
    (root / "up").symlink_to("..")
    for path in ("to-root/etc/passwd", "to-secret", "inside", "up/secret.txt"):
        _refused(functools.partial(volume.read, path, 0, 100), 403)
    _refused(lambda: volume.list("to-root"), 403)
    _refused(lambda: volume.list("up"), 403)
    _refused(lambda: volume.mkdir("to-root/tmp/escaped"), 403)
    _refused(lambda: volume.write_chunk("up/written.txt", uuid.uuid4(), 0, b"x"), 403)
    _refused(lambda: volume.rename("hello.txt", "up/moved.txt"), 403)
    assert not (root.parent / "written.txt").exists()
    assert not (root.parent / "moved.txt").exists()
    # A symlink is shown as one, and deleting it removes the link, not its target.
    kinds = {entry.name: entry.kind for entry in volume.list("")}
    assert kinds["to-secret"] == "symlink"
    volume.delete("to-secret")
    assert (root.parent / "secret.txt").read_text() == SECRET
    # Writing over a symlink replaces the link itself; the file it pointed at is untouched.
    upload = uuid.uuid4()
    volume.write_chunk("inside", upload, 0, b"replaced")
    volume.commit("inside", upload)
    assert not (root / "inside").is_symlink()
    assert (root / "hello.txt").read_text() == "hello\n"


def test_device_files_and_fifos_are_not_read(volume: VolumeFiles) -> None:
    os.mkfifo(volume.root / "pipe")
    _refused(lambda: volume.read("pipe", 0, 10), 403)
    if os.geteuid() == 0:
        os.mknod(volume.root / "null", 0o600 | 0o020000, os.makedev(1, 3))
        _refused(lambda: volume.read("null", 0, 10), 403)


def test_a_symlink_swapped_in_during_reads_never_leaks(volume: VolumeFiles) -> None:
    """GIVEN a racer swapping `race` (a file <-> a symlink out) and `dir` (a folder <-> a symlink to the parent)
    WHEN reads go on meanwhile THEN each gives the inside content or a refusal, never the secret."""
    root = volume.root
    (root / "real-dir").mkdir()
    (root / "real-dir" / "secret.txt").write_text("inside\n")
    (root / "real.txt").write_text("inside\n")
    stop = threading.Event()

    def racer() -> None:
        while not stop.is_set():
            for name, real, outside in (("race", "real.txt", root.parent / "secret.txt"), ("dir", "real-dir", root.parent)):
                link = root / f".{name}.tmp"
                link.unlink(missing_ok=True)
                link.symlink_to(outside)
                link.replace(root / name)  # atomically a symlink out
                link.unlink(missing_ok=True)
                link.symlink_to(real)
                (root / name).unlink()
                if real.endswith(".txt"):
                    os.link(root / real, root / name)  # a hard link inside: a regular file
                else:
                    (root / real).rename(root / name)
                    (root / name).rename(root / real)
                link.unlink(missing_ok=True)

    thread = threading.Thread(target=racer, daemon=True)
    thread.start()
    outcomes: dict[str, int] = {"inside": 0, "refused": 0}
    try:
        for _ in range(2000):
            for path in ("race", "dir/secret.txt"):
                try:
                    data, _ = volume.read(path, 0, 100)
                except FileError:
                    outcomes["refused"] += 1
                    continue
                assert data != SECRET.encode(), f"{path} leaked the secret outside the volume"
                assert data == b"inside\n"
                outcomes["inside"] += 1
    finally:
        stop.set()
        thread.join(timeout=10)
    assert outcomes["refused"] > 0, "the racer never won a round: the test proved nothing"


@pytest.mark.parametrize("name", ["a\r\nb.txt", "line\nbreak", "tab\there", "bell\x07", "del\x7f"])
def test_the_agent_refuses_to_create_a_name_the_file_cloud_refuses(volume: VolumeFiles, name: str) -> None:
    """GIVEN a name with a control character WHEN uploaded, made or renamed to THEN 400 and nothing on disk
    (the server refuses first; the agent does not rely on it)."""
    upload = uuid.uuid4()
    _refused(lambda: volume.write_chunk(f"config/{name}", upload, 0, b"x"), 400)
    _refused(lambda: volume.commit(name, upload), 400)
    _refused(lambda: volume.mkdir(name), 400)
    _refused(lambda: volume.rename("hello.txt", f"config/{name}"), 400)
    assert sorted(path.name for path in volume.root.rglob("*")) == ["config", "hello.txt", "server.properties"]


def test_a_weird_name_made_inside_the_container_is_still_read_listed_and_renamed(volume: VolumeFiles) -> None:
    (volume.root / "made\ninside").write_text("x")
    assert "made\ninside" in [entry.name for entry in volume.list("")]
    assert volume.read("made\ninside", 0, 10) == (b"x", 1)
    volume.rename("made\ninside", "fixed")
    assert (volume.root / "fixed").read_text() == "x"
