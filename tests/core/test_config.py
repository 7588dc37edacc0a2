"""Configuration: defaults, NUBES_* variables, generated secrets, and one-line errors naming the variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from nubes.config import ConfigError, load_settings


def test_defaults_put_sqlite_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.data_dir == Path("data")
    assert settings.database_engine == "sqlite"
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'nubes.db'}"


def test_reads_prefixed_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUBES_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("NUBES_PORT", "9123")
    monkeypatch.setenv("NUBES_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("NUBES_DATABASE_URL", "postgres://nubes@db.example:5432/nubes")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.log_level == "warning"
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.database_url == "postgresql+asyncpg://nubes@db.example:5432/nubes"
    assert settings.database_engine == "postgresql"


def test_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path)
    second = load_settings(data_dir=tmp_path)
    secret_file = tmp_path / "secret_key"
    assert len(first.secret_key) >= 48
    assert first.secret_key == second.secret_key
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.secret_key not in repr(first)


def test_given_secret_is_not_written(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, secret_key="from-the-environment")
    assert settings.secret_key == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("NUBES_PORT", "eighty", "NUBES_PORT: Input should be a valid integer"),
        ("NUBES_PORT", "70000", "NUBES_PORT: Input should be less than or equal to 65535"),
        ("NUBES_DATABASE_URL", "mysql://root@db/nubes", "NUBES_DATABASE_URL: use sqlite+aiosqlite"),
        ("NUBES_STORAGE_URL", "ftp://files", "NUBES_STORAGE_URL: use file:///path or s3://"),
        ("NUBES_REDIS_URL", "memcached://x", "NUBES_REDIS_URL: use redis://"),
        ("NUBES_LOG_LEVEL", "chatty", "NUBES_LOG_LEVEL: Input should be"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv("NUBES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(says)
    assert "\n" not in message


def test_error_never_shows_a_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUBES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NUBES_DATABASE_URL", "mysql://root:hunter2-secret@db/nubes")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hunter2-secret" not in str(caught.value)
    assert "root:***@db" in str(caught.value)


def test_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match=r"^NUBES_DATA_DIR: cannot create"):
        load_settings(data_dir=blocker / "data")
