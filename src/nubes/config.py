"""Configuration: one pydantic-settings class; every variable is prefixed `NUBES_`."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


# Plain URLs people paste, mapped to the async drivers Nubes uses.
_DRIVERS = {
    "postgres://": "postgresql+asyncpg://",
    "postgresql://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}


class Settings(BaseSettings):
    """Every setting Nubes reads, from `NUBES_*` environment variables or a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="NUBES_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(default=Path("./data"), description="Where the embedded database, blobs and generated secrets live.")
    database_url: str = Field(default="", description="SQLAlchemy async URL; SQLite in the data dir when empty.")
    host: str = Field(default="127.0.0.1", description="Interface `nubes serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port `nubes serve` listens on.")
    server: Literal["uvicorn", "granian"] = Field(
        default="uvicorn",
        description="The ASGI server `nubes serve` runs: `uvicorn`, or `granian` (faster in `make bench`, and sends "
        "whole local blobs with pathsend, but see bench/README.md for why it is not the default yet).",
    )
    storage_url: str = Field(
        default="", description="Blob storage: `file:///path` (default: <data_dir>/blobs) or `s3://bucket?endpoint=...`."
    )
    user_quota_bytes: int = Field(
        default=0, ge=0, description="Storage quota of a user without their own, in bytes (versions and trash count); 0: none."
    )
    tenant_quota_bytes: int = Field(
        default=0, ge=0, description="Storage quota of a tenant without one of its own, in bytes; 0: none."
    )
    local_agent: Literal["auto", "off"] = Field(
        default="auto",
        description="`auto`: when a Docker Engine answers, register node `local` (cluster `default`) and run its agent "
        "in the server (one process only); `off`: never.",
    )
    redis_url: str = Field(default="", description="Redis for rate limits, pub/sub and jobs at scale; in-process when empty.")
    secret_key: str = Field(
        default="", repr=False, description="Server secret for signing; generated into the data dir when empty."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted by routes that do not declare their own limit."
    )
    body_idle_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a request body may send nothing before it is cut off with 408 (uploads, tus chunks, every route).",
    )
    body_min_rate: int = Field(
        default=500,
        ge=0,
        description="Bytes per second a request body must average over NUBES_BODY_RATE_WINDOW, or it is cut off with 408; "
        "0: no minimum. Time the server spends processing does not count against the client.",
    )
    body_rate_window: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds over which NUBES_BODY_MIN_RATE is averaged."
    )
    body_max_per_ip: int = Field(
        default=32,
        ge=0,
        description="Request bodies one client address may be sending at once; more are refused with 429. 0: no cap. "
        "Behind a reverse proxy every client shares the proxy's address: raise it, or let the proxy buffer bodies.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Reverse proxies (addresses or networks, comma-separated: 127.0.0.1,10.0.0.0/8) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; the client is the last address a trusted proxy did not "
        "add. Empty: none, the peer address is the client.",
    )
    web_dist: Path = Field(default=REPO_ROOT / "web" / "dist", description="The built web UI served at `/`.")
    admin_username: str = Field(
        default="admin", min_length=1, max_length=150, description="The first super-admin, created on an empty database."
    )
    admin_password: str = Field(default="", repr=False, description="Their password; generated and printed once when empty.")
    public_url: str = Field(
        default="",
        description="The URL users reach Nubes at (https://cloud.example.org); sets Secure cookies and the allowed Origin.",
    )
    access_token_ttl: int = Field(default=300, ge=30, le=3600, description="Lifetime of access tokens, in seconds.")
    session_ttl_days: int = Field(
        default=30, ge=1, le=365, description="How long a session (refresh-token family) lives without use."
    )
    sudo_ttl: int = Field(
        default=600,
        ge=30,
        le=86400,
        description="Seconds a re-authentication (password or passkey) unlocks credential changes for, in a signed-in session.",
    )
    jobs: bool = Field(
        default=True,
        description=(
            "Whether this server also runs the background jobs and chores (mail, thumbnails, sweeps); turn it off on "
            "web replicas when `nubes worker` processes run them (with NUBES_REDIS_URL, so they are woken at once)."
        ),
    )
    job_lease: int = Field(
        default=300,
        ge=2,
        le=86400,
        description=(
            "Seconds a worker holds a background job (a thumbnail, a mail) it claimed: when it dies mid-job, another "
            "worker retries the job after this long. Longer than the slowest job."
        ),
    )
    sweep_interval: int = Field(
        default=300,
        ge=1,
        le=86400,
        description="Seconds between sweeps of expired uploads and old versions (one process of the install sweeps).",
    )
    apps_services: str = Field(
        default="",
        max_length=20_000,
        description="Services registered (or left as they are) at start, as base URLs separated by commas "
        "(http://notes:8080,http://wiki:3000); each must answer /plugin/manifest. More are registered in Admin → Services.",
    )
    apps_health_interval: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="Seconds between health checks of the registered services (one process of the install checks).",
    )
    alerts_interval: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="Seconds between evaluations of the alert rules (one process of the install evaluates them).",
    )
    ocr_languages: str = Field(
        default="eng",
        pattern=r"^[a-z_]{3,20}(\+[a-z_]{3,20}){0,5}$",
        description=(
            "Tesseract languages for reading scans and images, joined with + (`eng+deu`); each needs its Debian "
            "package (tesseract-ocr-deu)."
        ),
    )
    ai_allow_private_urls: bool = Field(
        default=False,
        description=(
            "Whether an organization's AI provider may live on a loopback or private address (a local Ollama or "
            "vLLM: http://127.0.0.1:11434/v1). Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10) "
            "are refused either way."
        ),
    )
    principal_cache_ttl: int = Field(
        default=30,
        ge=0,
        le=300,
        description=(
            "Seconds a request's resolved caller is reused by the next ones with the same credential (0: off). Every "
            "change of access drops it at once; the lifetime only bounds changes made outside Nubes (SQL by hand)."
        ),
    )
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65536, ge=1024, le=4_194_304)
    argon2_parallelism: int = Field(default=4, ge=1, le=64)
    login_rate_limit: str = Field(
        default="10/minute", description="Login attempts per IP and per account (a `limits` expression)."
    )
    smtp_url: str = Field(
        default="",
        description="Outgoing mail: smtp://user:pass@host:587 (STARTTLS when offered), smtps://... (TLS), or smtp+plain:// "
        "(no TLS, loopback relays only). Empty: mail is written to the log instead.",
    )
    mail_from: str = Field(default="Nubes <nubes@localhost>", description="The From address of the mail Nubes sends.")
    backup_repository: str = Field(
        default="",
        max_length=2000,
        description="Where `nubes backup` keeps its restic repository: a directory (/srv/backups/nubes) or an S3 bucket "
        "(s3:http://host:9000/bucket, credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); empty: no backups.",
    )
    backup_password_file: Path | None = Field(
        default=None,
        description="A file holding the repository's password (the key the admin keeps: without it no backup can be "
        "read); never logged, never shown.",
    )
    backup_schedule: str = Field(
        default="",
        pattern=r"^(|([01][0-9]|2[0-3]):[0-5][0-9])$",
        description="Daily backup time as HH:MM UTC (one server of the install runs it); empty: only by hand or as set "
        "in Admin → Backups.",
    )
    metrics: bool = Field(
        default=True,
        description="Whether this process collects metrics (host, requests, jobs, ...) into the database and /metrics (on|off).",
    )
    metrics_interval: int = Field(
        default=15, ge=1, le=3600, description="Seconds between metric collections and writes (each process of the install)."
    )
    metrics_raw_retention: int = Field(
        default=86_400, ge=3600, le=31_536_000, description="Seconds raw metric samples are kept (then only their 1-minute tier)."
    )
    metrics_minute_retention: int = Field(
        default=604_800,
        ge=3600,
        le=31_536_000,
        description="Seconds the 1-minute metric tier is kept (then only the 1-hour tier).",
    )
    metrics_hour_retention: int = Field(
        default=31_536_000, ge=86_400, le=315_360_000, description="Seconds the 1-hour metric tier is kept."
    )
    metrics_token: str = Field(
        default="",
        repr=False,
        max_length=500,
        description="A bearer token that lets a Prometheus server scrape /metrics from any address; empty: none.",
    )
    metrics_allow: str = Field(
        default="127.0.0.1/32,::1/128",
        description="Client networks (comma-separated CIDR) that may scrape /metrics without the token; empty: none.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_connect_timeout: float = Field(default=5.0, gt=0, le=120)
    db_start_timeout: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="Seconds `nubes serve` and `nubes worker` wait at start for a PostgreSQL they cannot reach yet "
        "(failing over, restarting), trying again with growing pauses, before they exit; 0: try once.",
    )

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or a network (10.0.0.0/8); name each proxy") from None
        return ",".join(entries)

    @field_validator("log_level", "log_format", "server", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        for plain, driver in _DRIVERS.items():
            if value.startswith(plain):
                value = driver + value.removeprefix(plain)
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user:pass@host:port/db")
        return value

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"file", "s3"}:
            raise ValueError("use file:///path or s3://bucket?endpoint=...")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}):
            raise ValueError("use the bare origin, e.g. https://cloud.example.org")
        return value.rstrip("/")

    @field_validator("login_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("use a limits expression such as 10/minute or 5/minute;50/hour") from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _known_smtp(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in {"smtp", "smtps", "smtp+plain"} or not parts.hostname):
            raise ValueError("use smtp://user:pass@host:587, smtps://user:pass@host:465 or smtp+plain://host:25")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("use redis://host:port/db")
        return value

    @property
    def base_url(self) -> str:
        """Where links in mail point: the public URL, or this server's own address when none is set."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: the configured one or SQLite in the data dir."""
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'nubes.db').resolve()}"

    @property
    def database_engine(self) -> str:
        """`sqlite` or `postgresql`."""
        return "postgresql" if self.effective_database_url.startswith("postgresql") else "sqlite"

    def prepare_data_dir(self) -> None:
        """Create the data dir (mode 0700), close what older versions left readable, fill in secrets not given."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(f"NUBES_DATA_DIR: cannot create {self.data_dir}: {exc.strerror}") from exc
        if not os.access(self.data_dir, os.W_OK):
            raise ConfigError(f"NUBES_DATA_DIR: {self.data_dir} is not writable")
        _make_private(self.data_dir, *self.data_dir.iterdir())
        if not self.secret_key:
            self.secret_key = _generated_secret(self.data_dir / "secret_key")


def _make_private(*paths: Path) -> None:
    """Take group and other permissions off `paths` (older versions left the SQLite files 0644).

    The data dir's top level only: blobs were always written 0600 in 0700 folders, and the embedded node's
    container volumes further down belong to the containers, with the owners and modes their images expect.
    """
    for path in paths:
        # A file another user owns (or one gone meanwhile) is left as it is; the server can still start.
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077 and not path.is_symlink():
                path.chmod(mode & 0o700)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists, and take group and other permissions off it."""
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    _make_private(path)


def _generated_secret(path: Path) -> str:
    """Read a secret file, creating it once with mode 0600 when it does not exist."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def load_settings(**overrides: Any) -> Settings:
    """Build and validate settings, turning pydantic's report into one line naming the variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    settings.prepare_data_dir()
    return settings


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    message = first["msg"].removeprefix("Value error, ")
    given = first.get("input")
    shown = "" if field in _SECRET_FIELDS else f" (got {redact_url(given) if isinstance(given, str) else given!r})"
    return f"NUBES_{field.upper()}: {message}{shown}"


_SECRET_FIELDS = {"secret_key", "admin_password"}


def redact_url(value: str) -> str:
    """The URL with its password masked, so no message or log ever prints a credential."""
    password = urlsplit(value).password if "@" in value else None
    return value.replace(f":{password}@", ":***@", 1) if password else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
