"""restic, the backup tool: a repository (a directory or an S3 bucket) encrypted with a password the admin holds.

Every call runs the `restic` binary (Debian's package) with the repository and the password file in its
environment, never on its command line, so neither shows in `ps` or in a log. Errors come back as `ResticError`
with restic's last line of output, which names no secret.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAG = "nubes"
"""Every snapshot Nubes makes carries this tag; retention and `latest` only look at these."""

ERROR_LINES = 3  # restic's last lines of stderr kept in an error message


class ResticError(Exception):
    """restic failed; the message is its own last words (no secret: the password never reaches its arguments)."""


@dataclass(frozen=True, slots=True)
class Repository:
    """A restic repository and the file holding its password."""

    location: str
    password_file: Path

    def environment(self) -> dict[str, str]:
        """The process environment with the repository and password file for restic."""
        env = dict(os.environ)
        env.update(
            {
                "RESTIC_REPOSITORY": self.location,
                "RESTIC_PASSWORD_FILE": str(self.password_file),
                "RESTIC_PROGRESS_FPS": "4",
            }
        )
        env.pop("RESTIC_PASSWORD", None)
        return env


def binary() -> str:
    """The restic executable, or ResticError saying how to install it."""
    found = shutil.which("restic")
    if found is None:
        raise ResticError("restic is not installed: `apt-get install restic` (Debian package restic)")
    return found


def run(repository: Repository, *args: str, on_json: Callable[[dict[str, Any]], None] | None = None) -> str:
    """Run `restic <args>`; its stdout (JSON lines go to `on_json` as they come when given)."""
    command = [binary(), *args]
    if on_json is None:
        done = subprocess.run(  # noqa: S603 - restic, with arguments Nubes builds
            command, env=repository.environment(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ResticError(_last_words(done.stderr, done.returncode))
        return done.stdout
    with subprocess.Popen(  # noqa: S603 - restic, with arguments Nubes builds
        command, env=repository.environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        stdout, stderr_stream = process.stdout, process.stderr
        if stdout is None or stderr_stream is None:
            raise ResticError("restic's output could not be read")
        kept: list[str] = []
        for line in _lines(stdout):
            kept.append(line)
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                on_json(message)
        stderr = stderr_stream.read()
        code = process.wait()
    if code != 0:
        raise ResticError(_last_words(stderr, code))
    return "\n".join(kept)


def _lines(stream: Any) -> Iterator[str]:
    for line in stream:
        stripped = line.strip()
        if stripped:
            yield stripped


def _last_words(stderr: str, code: int) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return "; ".join(lines[-ERROR_LINES:]) or f"restic exited with status {code}"


def json_lines(output: str) -> list[dict[str, Any]]:
    """The JSON objects of restic's `--json` output, one per line (other lines skipped)."""
    found: list[dict[str, Any]] = []
    for line in output.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def ensure_initialized(repository: Repository) -> None:
    """Create the repository when it does not exist yet (a new directory or bucket)."""
    try:
        run(repository, "cat", "config")
    except ResticError:
        run(repository, "init")


def snapshots(repository: Repository, *selectors: str) -> list[dict[str, Any]]:
    """Nubes' snapshots in the repository (oldest first), or the ones `selectors` name (ids or `latest`)."""
    output = run(repository, "snapshots", "--json", "--tag", TAG, *selectors)
    value = json.loads(output or "[]")
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def dump(repository: Repository, snapshot_id: str, path: str) -> bytes:
    """One file's bytes out of a snapshot (restic checks them against the repository's hashes)."""
    command = [binary(), "dump", snapshot_id, path]
    done = subprocess.run(command, env=repository.environment(), capture_output=True, check=False)  # noqa: S603 - restic
    if done.returncode != 0:
        raise ResticError(_last_words(done.stderr.decode(errors="replace"), done.returncode))
    return done.stdout


async def stream(repository: Repository, snapshot_id: str, path: str, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """One file's bytes out of a snapshot as they come (restic checks them); ResticError at the end when it failed."""
    process = await asyncio.create_subprocess_exec(
        binary(), "dump", snapshot_id, path, env=repository.environment(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    if process.stdout is None or process.stderr is None:
        raise ResticError("restic's output could not be read")
    try:
        while chunk := await process.stdout.read(chunk_size):
            yield chunk
        stderr = await process.stderr.read()
        code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if code != 0:
        raise ResticError(_last_words(stderr.decode(errors="replace"), code))
