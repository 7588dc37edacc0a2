"""A container's files, reached only beneath its volume directory, the way `openat2(RESOLVE_BENEATH)` does.

Every path is resolved from an open descriptor of the volume root, never by comparing strings:

- `openat2(2)` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS` when the kernel has
  it (Linux 5.6+): the kernel refuses `..` that climbs out, absolute paths and every symlink;
- otherwise a walk from the root descriptor one component at a time, each opened with
  `O_NOFOLLOW | O_DIRECTORY` relative to the previous one, so a component swapped for a symlink
  between two calls fails the open (ELOOP / ENOTDIR) instead of being followed.

Decision: symlinks are refused entirely, inside or out (a listing shows them, as `symlink`, and they
can be deleted or renamed, which acts on the link itself; reading or writing through one is refused).
Paths are relative to the volume: absolute paths, `..` components, NUL bytes and over-long names are
refused before any system call. Only regular files are read or written: devices, FIFOs and sockets
are refused (a file is opened with `O_PATH` first and checked with `fstat` before its data is opened).
A name being created (upload, mkdir, rename target) follows the file cloud's rules (nubes.core.names):
no CR/LF or other control character, so no name made through Nubes can break a header or a log line.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nubes.core import names

MAX_PATH = 4096
MAX_NAME = 255
UPLOAD_PREFIX = ".nubes-upload-"

# openat2(2): x86_64 and the generic syscall table (arm64, riscv) share the number.
_SYS_OPENAT2 = 437
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08


class FileError(Exception):
    """A refused or failed file operation; `status` is the HTTP status the server answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


EntryKind = Literal["file", "directory", "symlink", "other"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry, as `lstat` sees it (a symlink is never followed)."""

    name: str
    kind: EntryKind
    size: int
    mode: int
    modified: float


def components(path: str) -> list[str]:
    """The names along a relative path; FileError for anything that could leave the root or is malformed."""
    if "\x00" in path:
        raise FileError(400, "A path cannot contain a NUL byte.")
    if len(path.encode()) > MAX_PATH:
        raise FileError(400, f"A path is at most {MAX_PATH} bytes.")
    if path.startswith("/"):
        raise FileError(400, "Paths are relative to the container's volume; an absolute path is refused.")
    names = [name for name in path.split("/") if name not in {"", "."}]
    for name in names:
        if name == "..":
            raise FileError(400, "A path cannot contain '..'.")
        if len(name.encode()) > MAX_NAME:
            raise FileError(400, f"A name is at most {MAX_NAME} bytes.")
    return names


def new_name(name: str) -> None:
    """FileError unless `name` may be created (the server checks first; the agent does not rely on it)."""
    try:
        names.normalize(name)
    except names.BadName as exc:
        raise FileError(400, f"{name!r} cannot be used as a name: {exc}.") from None


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


def _load_openat2() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
    except (OSError, AttributeError):
        return None
    syscall.restype = ctypes.c_long
    return syscall


_syscall = _load_openat2()
_openat2_works: bool | None = None  # learned on first use (ENOSYS on old kernels, EPERM under some seccomp filters)


def _openat2(dir_fd: int, path: str, flags: int) -> int | None:
    """openat2 beneath `dir_fd` with no symlinks at all; None when the kernel lacks it."""
    global _openat2_works  # noqa: PLW0603 - one fact about the running kernel
    if _syscall is None or _openat2_works is False:
        return None
    how = _OpenHow(flags | os.O_CLOEXEC, 0, _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS)
    fd = _syscall(_SYS_OPENAT2, dir_fd, path.encode(), ctypes.byref(how), ctypes.sizeof(how))
    if fd < 0:
        code = ctypes.get_errno()
        if code in {errno.ENOSYS, errno.EPERM} and _openat2_works is None:
            _openat2_works = False
            return None
        raise OSError(code, os.strerror(code), path)
    _openat2_works = True
    return int(fd)


def _walk(root_fd: int, names: list[str], flags: int) -> int:
    """Open `names` beneath `root_fd`, component by component, following no symlink (the fallback)."""
    fd = os.dup(root_fd)
    try:
        for index, name in enumerate(names):
            last = index == len(names) - 1
            step = flags if last else os.O_PATH | os.O_DIRECTORY
            try:
                next_fd = os.open(name, step | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except NotADirectoryError:
                # O_NOFOLLOW | O_DIRECTORY on a symlink says ENOTDIR; say what openat2 says (ELOOP) instead.
                if stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), name) from None
                raise
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    if not names:
        # The root itself: reopen it with the flags asked for.
        reopened = os.open(".", flags | os.O_CLOEXEC, dir_fd=fd)
        os.close(fd)
        fd = reopened
    return fd


def open_beneath(root_fd: int, names: list[str], flags: int) -> int:
    """A descriptor of `names` beneath the root, opened with `flags`; OSError as the kernel says (ELOOP for a symlink)."""
    relative = "/".join(names) or "."
    fd = _openat2(root_fd, relative, flags)
    if fd is not None:
        return fd
    return _walk(root_fd, names, flags)


_ERRNO_ANSWERS: dict[int, tuple[int, str]] = {
    errno.ELOOP: (403, "symbolic links are not followed in a container's files"),
    errno.EXDEV: (403, "symbolic links are not followed in a container's files"),
    errno.ENOENT: (404, "no such file or directory"),
    errno.ENOTDIR: (409, "a part of the path is not a directory"),
    errno.EISDIR: (409, "is a directory"),
    errno.EEXIST: (409, "exists already"),
    errno.ENOTEMPTY: (409, "the directory is not empty"),
    errno.EACCES: (403, "permission denied"),
    errno.EPERM: (403, "permission denied"),
}


def _explain(exc: OSError, path: str) -> FileError:
    if exc.errno == errno.ENOSPC:
        return FileError(507, "The node's disk is full.")
    status, reason = _ERRNO_ANSWERS.get(exc.errno or 0, (500, exc.strerror or str(exc)))
    return FileError(status, f"{path or '/'}: {reason}.")


def _kind(mode: int) -> EntryKind:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


class VolumeFiles:
    """The files of one container volume; every method is blocking (run it in a thread)."""

    def __init__(self, root: Path, *, uid: int | None = None, gid: int | None = None) -> None:
        self.root = root
        self.uid, self.gid = uid, gid

    @contextlib.contextmanager
    def _root(self) -> Iterator[int]:
        try:
            fd = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            raise FileError(409, "The container has no volume on its node (yet).") from None
        try:
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _open(self, path: str, flags: int) -> Iterator[int]:
        names = components(path)
        with self._root() as root:
            try:
                fd = open_beneath(root, names, flags)
            except OSError as exc:
                raise _explain(exc, path) from None
            try:
                yield fd
            finally:
                os.close(fd)

    @contextlib.contextmanager
    def _parent(self, path: str) -> Iterator[tuple[int, str]]:
        """The directory holding the last name of `path` (opened beneath the root), and that name."""
        names = components(path)
        if not names:
            raise FileError(400, "This operation needs a path below the volume's root.")
        with self._root() as root:
            try:
                fd = open_beneath(root, names[:-1], os.O_PATH | os.O_DIRECTORY)
            except OSError as exc:
                raise _explain(exc, "/".join(names[:-1])) from None
            try:
                yield fd, names[-1]
            finally:
                os.close(fd)

    # --- reading ------------------------------------------------------------------------------------

    def list(self, path: str) -> list[Entry]:
        """A directory's entries, directories first, then by name."""
        with self._open(path, os.O_RDONLY | os.O_DIRECTORY) as fd:
            entries = []
            with os.scandir(fd) as found:
                for item in found:
                    with contextlib.suppress(OSError):
                        info = item.stat(follow_symlinks=False)
                        entries.append(Entry(item.name, _kind(info.st_mode), info.st_size, info.st_mode & 0o7777, info.st_mtime))
        entries.sort(key=lambda entry: (entry.kind != "directory", entry.name))
        return entries

    def stat(self, path: str) -> Entry:
        """One entry (a symlink is described, not followed)."""
        names = components(path)
        if not names:
            with self._open("", os.O_PATH | os.O_DIRECTORY) as fd:
                info = os.fstat(fd)
            return Entry("", "directory", info.st_size, info.st_mode & 0o7777, info.st_mtime)
        with self._parent(path) as (parent, name):
            try:
                info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except OSError as exc:
                raise _explain(exc, path) from None
        return Entry(name, _kind(info.st_mode), info.st_size, info.st_mode & 0o7777, info.st_mtime)

    def read(self, path: str, offset: int, length: int) -> tuple[bytes, int]:
        """Up to `length` bytes of a regular file from `offset`, and the file's size."""
        with self._open(path, os.O_PATH) as pinned:
            info = os.fstat(pinned)
            if not stat.S_ISREG(info.st_mode):
                what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
                raise FileError(409 if stat.S_ISDIR(info.st_mode) else 403, f"{path}: {what}; only files can be read.")
            # Reopened through the pinned descriptor: whatever the name points at now, this is the file checked above.
            fd = os.open(f"/proc/self/fd/{pinned}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            return os.pread(fd, length, offset), info.st_size
        finally:
            os.close(fd)

    # --- writing ------------------------------------------------------------------------------------

    def _owned(self, fd: int) -> None:
        if self.uid is not None and self.gid is not None and os.geteuid() == 0:
            os.fchown(fd, self.uid, self.gid)

    def write_chunk(self, path: str, upload_id: uuid.UUID, offset: int, data: bytes) -> int:
        """Write a piece of an upload into its hidden part file next to `path`; the part's size afterwards."""
        with self._parent(path) as (parent, name):
            new_name(name)
            part = f"{UPLOAD_PREFIX}{upload_id}"
            flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
            try:
                if offset == 0:
                    fd = os.open(part, flags | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=parent)
                    os.fchmod(fd, 0o644)  # the mode a container expects, whatever the server's umask (077)
                    self._owned(fd)
                else:
                    fd = os.open(part, flags, dir_fd=parent)
            except OSError as exc:
                raise _explain(exc, path) from None
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise FileError(403, f"{path}: not a regular file.")
                os.pwrite(fd, data, offset)
                return os.fstat(fd).st_size
            except OSError as exc:
                raise _explain(exc, path) from None
            finally:
                os.close(fd)

    def commit(self, path: str, upload_id: uuid.UUID) -> Entry:
        """Put a finished upload in place of `path` at once (a reader sees the old file or the new, never half)."""
        with self._parent(path) as (parent, name):
            new_name(name)
            part = f"{UPLOAD_PREFIX}{upload_id}"
            try:
                with contextlib.suppress(FileNotFoundError):
                    if stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                        raise FileError(409, f"{path}: is a directory.")
                os.rename(part, name, src_dir_fd=parent, dst_dir_fd=parent)
                info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except OSError as exc:
                raise _explain(exc, path) from None
        return Entry(name, _kind(info.st_mode), info.st_size, info.st_mode & 0o7777, info.st_mtime)

    def abort(self, path: str, upload_id: uuid.UUID) -> None:
        """Drop an unfinished upload."""
        with contextlib.suppress(FileError, OSError), self._parent(path) as (parent, _):
            os.unlink(f"{UPLOAD_PREFIX}{upload_id}", dir_fd=parent)

    def mkdir(self, path: str) -> Entry:
        """A new directory (its parent must exist)."""
        with self._parent(path) as (parent, name):
            new_name(name)
            try:
                os.mkdir(name, 0o755, dir_fd=parent)
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                try:
                    os.fchmod(fd, 0o755)  # as for files: not the server's umask
                    self._owned(fd)
                    info = os.fstat(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise _explain(exc, path) from None
        return Entry(name, "directory", info.st_size, info.st_mode & 0o7777, info.st_mtime)

    def rename(self, source: str, target: str) -> Entry:
        """Move an entry (a symlink moves as itself); the target must not exist."""
        with self._parent(source) as (source_dir, source_name), self._parent(target) as (target_dir, target_name):
            new_name(target_name)
            try:
                os.stat(target_name, dir_fd=target_dir, follow_symlinks=False)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise _explain(exc, target) from None
            else:
                raise FileError(409, f"{target}: exists already.")
            try:
                os.rename(source_name, target_name, src_dir_fd=source_dir, dst_dir_fd=target_dir)
                info = os.stat(target_name, dir_fd=target_dir, follow_symlinks=False)
            except OSError as exc:
                if exc.errno == errno.EINVAL:
                    raise FileError(409, "A directory cannot be moved into itself.") from None
                raise _explain(exc, source) from None
        return Entry(target_name, _kind(info.st_mode), info.st_size, info.st_mode & 0o7777, info.st_mtime)

    def delete(self, path: str) -> None:
        """Remove a file, a symlink (not what it points at) or a directory with everything in it."""
        with self._parent(path) as (parent, name):
            try:
                info = os.stat(name, dir_fd=parent, follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    # rmtree with dir_fd works on descriptors and never follows a symlink (safe against swaps).
                    shutil.rmtree(name, dir_fd=parent)
                else:
                    os.unlink(name, dir_fd=parent)
            except OSError as exc:
                raise _explain(exc, path) from None
