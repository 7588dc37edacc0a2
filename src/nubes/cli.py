"""The `nubes` command: serve, agent, migrate, backup, restore, version, openapi."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from nubes import API_VERSION, __version__
from nubes.config import ConfigError, Settings, load_settings, redact_url

if TYPE_CHECKING:
    from fastapi import FastAPI

app = typer.Typer(
    name="nubes",
    help="Nubes: one self-hosted, multi-tenant cloud for files, documents, apps and containers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def _fail(message: str, code: int = 2) -> NoReturn:
    """Print one line saying what is wrong and stop, with no traceback."""
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def _private_files() -> None:
    """Everything this process creates is its user's alone: the database and its -wal/-shm, blobs, temp files."""
    # Set once, before anything is opened; uvicorn's worker processes inherit it. Explicit modes back it up
    # where Nubes creates files itself (the app factory also runs outside this command).
    os.umask(0o077)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{key: value for key, value in overrides.items() if value is not None})
    except ConfigError as exc:
        _fail(str(exc))


async def _migrate(settings: Settings) -> tuple[str | None, str | None, str | None]:
    """Apply migrations, then create the first tenant and super-admin on an empty database."""
    from nubes.core import migrate
    from nubes.core.db import Database, finish_on_exit
    from nubes.identity.tenants import service as tenants_service

    database = Database.from_settings(settings)
    try:
        # Replicas and workers started together (systemd, a deploy) take turns: the first migrates and makes the
        # first admin, the others find it done.
        async with migrate.install_lock(database.engine):
            before = await migrate.current_revision(database.engine)
            await migrate.upgrade(database.engine)
            after = await migrate.current_revision(database.engine)
            async with database.sessions() as session, finish_on_exit(session):
                generated = await tenants_service.bootstrap(session=session, settings=settings)
    finally:
        await database.dispose()
    return before, after, generated


def _wait_for_database(settings: Settings) -> None:
    """Wait for a PostgreSQL that cannot be reached yet (failing over, restarting) up to NUBES_DB_START_TIMEOUT.

    Exiting at once would only have systemd start the process again and again; each wait is logged instead.
    """
    from nubes.core.db import DatabaseUnreachable, wait_until_reachable

    try:
        asyncio.run(wait_until_reachable(settings))
    except DatabaseUnreachable as exc:
        _fail(f"NUBES_DATABASE_URL: {exc}; start it or fix the URL (NUBES_DB_START_TIMEOUT={settings.db_start_timeout:g} s)")
    except Exception as exc:
        _fail(f"NUBES_DATABASE_URL: {settings.database_engine} refused the connection: {_reason(exc)}")


def _run_migrations(settings: Settings) -> None:
    try:
        before, after, generated = asyncio.run(_migrate(settings))
    except ConfigError as exc:
        _fail(str(exc))
    except (OSError, TimeoutError) as exc:
        _fail(
            f"NUBES_DATABASE_URL: cannot reach the {settings.database_engine} database ({_reason(exc)}); start it or fix the URL"
        )
    except Exception as exc:
        # Driver errors (bad password, missing database) carry no secret; name the class and message.
        _fail(f"NUBES_DATABASE_URL: {settings.database_engine} refused the connection or migration: {_reason(exc)}")
    if before != after:
        err.print(f"database migrated: {before or 'empty'} -> {after}")
    if generated is not None:
        # Shown once, on the operator's terminal only (never logged): there is no default password.
        err.print(
            f"[bold]First administrator created:[/] username [bold]{settings.admin_username}[/], "
            f"password [bold]{generated}[/]\nIt is shown only this once: sign in and change it "
            "(or set NUBES_ADMIN_PASSWORD before the first start).",
            soft_wrap=True,
        )


def _check_port_free(settings: Settings) -> None:
    """Fail with one line, before migrating anything, when another process holds the port."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as exc:
        _fail(
            f"NUBES_PORT: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "stop the other server or choose another port with NUBES_PORT"
        )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (NUBES_HOST, default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (NUBES_PORT, default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (use 1 with SQLite).")] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply pending database migrations before serving.")] = True,
    server: Annotated[str | None, typer.Option(help="ASGI server: uvicorn or granian (NUBES_SERVER, default uvicorn).")] = None,
) -> None:
    """Serve the web UI and the API: apply migrations, then listen on NUBES_HOST:NUBES_PORT."""
    from nubes.core.logging import configure_logging

    _private_files()
    settings = _settings(host=host, port=port, server=server)
    # The app factory reads the environment in each worker: hand it the command-line overrides too.
    os.environ.update({"NUBES_HOST": settings.host, "NUBES_PORT": str(settings.port), "NUBES_SERVER": settings.server})
    if workers > 1 and settings.local_agent == "auto":
        # One embedded agent per server, not per worker: with several, run `nubes agent` beside the server instead.
        os.environ["NUBES_LOCAL_AGENT"] = "off"
        err.print("[yellow]note:[/] the embedded node `local` runs with --workers 1 only; run `nubes agent` for this host.")
    if workers > 1 and not settings.redis_url:
        # Each worker would keep callers another worker cannot drop when access changes: Redis shares the drops.
        os.environ["NUBES_PRINCIPAL_CACHE_TTL"] = "0"
        err.print("[yellow]note:[/] the principal cache is off with several workers and no NUBES_REDIS_URL.")
    _check_port_free(settings)
    configure_logging(settings.log_level, settings.log_format)
    _wait_for_database(settings)
    if migrate:
        _run_migrations(settings)
    if not (settings.web_dist / "index.html").is_file():
        err.print(
            f"[yellow]note:[/] the web UI is not built ({settings.web_dist}); `make run` builds it. The API works without it."
        )
    where = f"{settings.database_engine}, data in {settings.data_dir.resolve()}"
    err.print(f"Nubes {__version__} on [bold]http://{settings.host}:{settings.port}[/] ({where}, {settings.server})")
    if settings.server == "granian":
        _run_granian(settings, workers)
    else:
        _run_uvicorn(settings, workers)


# What each worker process loads: `served_app` below, so a worker of either server configures logging itself.
APP_FACTORY = "nubes.cli:served_app"
WORKER_KILL_TIMEOUT_S = 30


def served_app() -> FastAPI:
    """The app as `nubes serve` runs it in a worker process: logging set up from the settings first, then the app.

    uvicorn starts its workers (with --workers > 1) as new interpreters, which inherit the environment but not the
    logging set up by the `serve` command; Granian forks them, and configuring again is harmless.
    """
    from nubes.core.logging import configure_logging
    from nubes.main import create_app

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def _run_uvicorn(settings: Settings, workers: int) -> None:
    """uvicorn with Nubes' rules: our logs only (no access log), no proxy headers trusted, no Server header."""
    import uvicorn

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


def _run_granian(settings: Settings, workers: int) -> None:
    """Granian with the same rules as uvicorn; its own log lines go through our handlers (JSON, redacted)."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    # Granian's loggers hand their records to the root logger, which configure_logging gave our formatter.
    loggers = {name: {"handlers": [], "propagate": True} for name in ("_granian", "granian.access")}
    Server(
        APP_FACTORY,
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=workers,
        log_level=LogLevels(settings.log_level),
        log_dictconfig={"version": 1, "disable_existing_loggers": False, "loggers": loggers},
        log_access=False,
        # A worker that has not finished its shutdown (the last token-use flush takes well under a second) by
        # then is killed: Granian 2.8 loses a SIGTERM that arrives during the lifespan startup and would wait forever.
        workers_kill_timeout=WORKER_KILL_TIMEOUT_S,
    ).serve()


@app.command()
def worker() -> None:
    """Run the background jobs and chores only (no HTTP): mail, thumbnails, sweeps, off the web replicas.

    Point it at the same NUBES_DATABASE_URL, NUBES_STORAGE_URL, NUBES_SECRET_KEY and NUBES_REDIS_URL as the servers
    (set NUBES_JOBS=false on those). It applies no migrations: start it once a server has.
    """
    from nubes.core.logging import configure_logging
    from nubes.main import create_app

    _private_files()
    # Jobs are its whole purpose; the embedded node belongs to `nubes serve`.
    os.environ.update({"NUBES_JOBS": "true", "NUBES_LOCAL_AGENT": "off"})
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _wait_for_database(settings)
    if not settings.redis_url:
        err.print("[yellow]note:[/] without NUBES_REDIS_URL the servers cannot wake this worker: jobs wait for its polls.")
    err.print(f"Nubes {__version__} worker ({settings.database_engine}); stop it with Ctrl-C or SIGTERM")

    async def run() -> None:
        application = create_app(settings)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        async with application.router.lifespan_context(application):
            await stopping.wait()

    asyncio.run(run())


@app.command()
def agent(  # noqa: PLR0917 - typer reads the options from the signature
    server: Annotated[str | None, typer.Option(help="The Nubes server's URL, e.g. https://cloud.example.org.")] = None,
    token: Annotated[str | None, typer.Option(help="The one-time registration token from POST /api/nodes.")] = None,
    state_dir: Annotated[
        Path, typer.Option(help="Where the node credential is kept (mode 0600).", envvar="NUBES_AGENT_STATE_DIR")
    ] = Path("/var/lib/nubes-agent"),
    volume_root: Annotated[
        Path | None,
        typer.Option(help="Where container volumes live (default: STATE_DIR/volumes).", envvar="NUBES_AGENT_VOLUME_ROOT"),
    ] = None,
    docker_url: Annotated[
        str | None, typer.Option(help="The Docker Engine (default: DOCKER_HOST or the local socket).", envvar="DOCKER_HOST")
    ] = None,
    disk_check_seconds: Annotated[float, typer.Option(min=1, help="How often volumes are measured against disk limits.")] = 30.0,
    metrics_address: Annotated[
        str | None,
        typer.Option(
            help="Serve the agent's own figures for Prometheus at http://HOST:PORT/metrics (e.g. 127.0.0.1:9108). "
            "An address other than loopback needs NUBES_AGENT_METRICS_TOKEN.",
            envvar="NUBES_AGENT_METRICS_ADDRESS",
        ),
    ] = None,
) -> None:
    """Run the node agent: register once with --token, then keep one connection to the server and drive Docker."""
    from nubes.agent.runner import AgentError, run_agent
    from nubes.core.logging import configure_logging

    configure_logging("info", "json")
    try:
        volumes = volume_root or state_dir / "volumes"
        asyncio.run(
            run_agent(
                server=server,
                token=token,
                state_dir=state_dir,
                volume_root=volumes,
                docker_url=docker_url,
                disk_check_seconds=disk_check_seconds,
                metrics_address=metrics_address,
                metrics_token=os.environ.get("NUBES_AGENT_METRICS_TOKEN") or None,
            )
        )
    except AgentError as exc:
        _fail(str(exc), code=3)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations (the same ones `nubes serve` applies at start)."""
    _private_files()
    settings = _settings()
    _run_migrations(settings)
    out.print(f"database at the newest schema ({settings.database_engine})")


@app.command()
def version(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the Nubes version and API version."""
    if as_json:
        out.print_json(json.dumps({"name": "nubes", "version": __version__, "api_version": API_VERSION}))
    else:
        out.print(f"nubes {__version__} (api {API_VERSION})")


config_app = typer.Typer(help="Show the configuration in effect (secrets masked).", no_args_is_help=True)
app.add_typer(config_app, name="config")

_MASKED = {"secret_key", "admin_password"}


def _shown(key: str, settings: Settings) -> str:
    value = getattr(settings, key)
    if key in _MASKED:
        return "(set)" if value else "(not set)"
    if key == "database_url":
        value = settings.effective_database_url
    return redact_url(str(value))


@config_app.command("show")
def config_show() -> None:
    """Print every setting as NUBES_NAME=value."""
    settings = _settings()
    for key in Settings.model_fields:
        out.print(f"NUBES_{key.upper()}={_shown(key, settings)}", soft_wrap=True)


@config_app.command("get")
def config_get(name: Annotated[str, typer.Argument(help="A setting, e.g. port or NUBES_PORT.")]) -> None:
    """Print one setting's value."""
    key = name.lower().removeprefix("nubes_")
    if key not in Settings.model_fields:
        _fail(f"unknown setting {name!r}; `nubes config show` lists them all")
    out.print(_shown(key, _settings()), soft_wrap=True)


search_app = typer.Typer(help="The full-text index of documents.", no_args_is_help=True)
app.add_typer(search_app, name="search")


@search_app.command("rebuild")
def search_rebuild() -> None:
    """Empty the search index and index every document again, with a progress bar (safe while servers run)."""
    _private_files()
    settings = _settings()
    _run_migrations(settings)
    asyncio.run(_rebuild_index(settings))


async def _rebuild_index(settings: Settings) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from nubes.core.db import Database
    from nubes.core.storage import open_storage
    from nubes.search import service

    database = Database.from_settings(settings)
    try:
        async with database.writer_sessions() as session:
            await service.rebuild(session)
            await session.commit()
            total, _ = await service.pending(session)
        storage = open_storage(settings)
        columns = (TextColumn("indexing documents and files"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("index", total=total)
            while True:
                async with database.writer_sessions() as session:
                    indexed = await service.index_changes(session)
                    await session.commit()
                indexed += await service.index_files(database.writer_sessions, storage)
                if not indexed:
                    break
                progress.advance(task, indexed)
    finally:
        await database.dispose()
    out.print(f"search index rebuilt: {total} files and documents")


backup_app = typer.Typer(help="Back the whole install up (restic), list restore points.", invoke_without_command=True)
app.add_typer(backup_app, name="backup")


@backup_app.callback()
def backup(context: typer.Context) -> None:
    """Back up the database, blobs and secrets to NUBES_BACKUP_REPOSITORY now, verified, with a progress bar."""
    if context.invoked_subcommand is not None:
        return
    from nubes.ops.backups import commands
    from nubes.ops.backups.engine import BackupError

    _private_files()
    settings = _settings()
    try:
        outcome = commands.backup(settings, err)
    except BackupError as exc:
        _fail(str(exc), code=1)
    checked = "verified" if outcome.verified else f"[bold red]NOT verified[/]: {outcome.verify_detail}"
    out.print(
        f"backup {outcome.snapshot_id[:8]}: {outcome.files} files, {outcome.total_bytes} bytes "
        f"({outcome.bytes_added} new) in {outcome.seconds:.1f} s, {checked}"
    )
    if not outcome.verified:
        raise typer.Exit(1)


@backup_app.command("list")
def backup_list() -> None:
    """List the restore points in NUBES_BACKUP_REPOSITORY, newest first."""
    from nubes.ops.backups import commands
    from nubes.ops.backups.engine import BackupError
    from nubes.ops.backups.restic import ResticError

    try:
        commands.restore_points(_settings(), out)
    except (BackupError, ResticError) as exc:
        _fail(str(exc), code=1)


@app.command()
def restore(
    snapshot: Annotated[str, typer.Argument(help="A restore point's id (`nubes backup list`) or `latest`.")],
    data_dir: Annotated[Path, typer.Option(help="An empty directory: the restored install's NUBES_DATA_DIR.")],
    database_url: Annotated[
        str, typer.Option(help="An empty PostgreSQL database to restore into (a PostgreSQL backup only).")
    ] = "",
    storage_url: Annotated[str, typer.Option(help="Where the blobs go (default: DATA_DIR/blobs); s3://... for S3.")] = "",
) -> None:
    """Restore a backup into an empty data dir (and database), then apply migrations: a working install again."""
    from pydantic import ValidationError

    from nubes.ops.backups import commands
    from nubes.ops.backups.engine import BackupError

    _private_files()
    try:  # not load_settings: it would write a new secret into the directory that must stay empty
        source = Settings(data_dir=data_dir, database_url=database_url, storage_url=storage_url)
    except ValidationError as exc:
        _fail(str(exc.errors()[0]["msg"]))
    try:
        restored = commands.restore(
            source, err, snapshot=snapshot, data_dir=data_dir, database_url=database_url, storage_url=storage_url
        )
    except BackupError as exc:
        _fail(f"{exc}; nothing was restored", code=1)
    out.print(f"restored {restored.snapshot_id[:8]} ({restored.engine}, {restored.blobs} blobs) into {data_dir}")
    _run_migrations(_settings(data_dir=data_dir, database_url=database_url or None, storage_url=storage_url or None))
    out.print(f"start it with NUBES_DATA_DIR={data_dir} nubes serve")


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema (what the web UI's typed client is generated from)."""
    from nubes.main import create_app

    schema = create_app(_settings()).openapi()
    sys.stdout.write(json.dumps(schema, indent=2, sort_keys=False) + "\n")


def main() -> None:
    """Entry point for `python -m nubes`."""
    app(prog_name="nubes")
