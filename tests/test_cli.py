"""The `nubes` command as an operator runs it: real processes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nubes import API_VERSION, __version__


def nubes(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m nubes ARGS` with a clean NUBES_* environment plus `env`."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
    return subprocess.run(
        [sys.executable, "-m", "nubes", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version() -> None:
    result = nubes("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"nubes {__version__} (api {API_VERSION})"
    as_json = json.loads(nubes("version", "--json").stdout)
    assert as_json == {"name": "nubes", "version": __version__, "api_version": API_VERSION}


@pytest.mark.parametrize(("command", "mentions"), [("serve", "--port"), ("migrate", "migrations"), ("version", "--json")])
def test_help_is_useful(command: str, mentions: str) -> None:
    result = nubes(command, "--help")
    assert result.returncode == 0
    assert mentions in result.stdout


@pytest.mark.parametrize(
    ("env", "first_words"),
    [
        ({"NUBES_PORT": "http"}, "error: NUBES_PORT: Input should be a valid integer"),
        ({"NUBES_DATABASE_URL": "oracle://db/x"}, "error: NUBES_DATABASE_URL: use sqlite+aiosqlite"),
    ],
)
def test_serve_with_bad_config_stops_with_one_line(tmp_path: Path, env: dict[str, str], first_words: str) -> None:
    result = nubes("serve", env={"NUBES_DATA_DIR": str(tmp_path), **env})
    assert result.returncode == 2
    assert result.stderr.startswith(first_words)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_with_database_down_stops_with_one_line(tmp_path: Path, unused_tcp_port: int) -> None:
    url = f"postgresql+asyncpg://nubes:s3cret-pw@127.0.0.1:{unused_tcp_port}/nubes"
    # Tried once: the wait for a database that is not up yet is tests/core/test_db_reconnect.py's.
    env = {"NUBES_DATA_DIR": str(tmp_path), "NUBES_DATABASE_URL": url, "NUBES_DB_START_TIMEOUT": "0"}
    result = nubes("serve", env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert lines[0].startswith("error: NUBES_DATABASE_URL: cannot reach the postgresql database")
    assert "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stderr


def test_migrate_creates_the_database_and_is_idempotent(tmp_path: Path) -> None:
    env = {"NUBES_DATA_DIR": str(tmp_path / "data")}
    first = nubes("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "database migrated: empty ->" in first.stderr
    assert "First administrator created: username admin, password " in first.stderr
    assert (tmp_path / "data" / "nubes.db").is_file()
    second = nubes("migrate", env=env)
    assert second.returncode == 0
    assert "database migrated" not in second.stderr
    assert "password" not in second.stderr  # shown only once
    assert "newest schema" in second.stdout


def test_openapi_prints_the_schema(tmp_path: Path) -> None:
    result = nubes("openapi", env={"NUBES_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["info"]["title"] == "Nubes"
    assert "/api/health" in schema["paths"]


def test_serve_on_a_busy_port_stops_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = nubes("serve", "--port", str(port), env={"NUBES_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: NUBES_PORT: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "nubes.db").exists()  # failed before touching the database


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    env = {
        "NUBES_DATA_DIR": str(tmp_path),
        "NUBES_SECRET_KEY": "top-secret-signing-key",
        "NUBES_DATABASE_URL": "postgresql://nubes:db-password@db.internal:5432/nubes",
    }
    result = nubes("config", "show", env=env)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "NUBES_SECRET_KEY=(set)" in lines
    assert "NUBES_DATABASE_URL=postgresql+asyncpg://nubes:***@db.internal:5432/nubes" in lines
    assert "top-secret-signing-key" not in result.stdout
    assert "db-password" not in result.stdout


def test_config_get_one_value(tmp_path: Path) -> None:
    env = {"NUBES_DATA_DIR": str(tmp_path), "NUBES_PORT": "9001"}
    assert nubes("config", "get", "port", env=env).stdout.strip() == "9001"
    assert nubes("config", "get", "NUBES_PORT", env=env).stdout.strip() == "9001"
    unknown = nubes("config", "get", "colour", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown setting 'colour'")


def test_weak_admin_password_stops_the_first_start(tmp_path: Path) -> None:
    result = nubes("migrate", env={"NUBES_DATA_DIR": str(tmp_path), "NUBES_ADMIN_PASSWORD": "admin123"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: NUBES_ADMIN_PASSWORD: Use at least 12 characters")
    assert "admin123" not in result.stderr
