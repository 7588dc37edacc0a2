"""The `nubes` command: serve, migrate, version, openapi."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from nubes import API_VERSION, __version__
from nubes.config import ConfigError, Settings, load_settings

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


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{key: value for key, value in overrides.items() if value is not None})
    except ConfigError as exc:
        _fail(str(exc))


async def _migrate(settings: Settings) -> tuple[str | None, str | None]:
    from nubes.core import migrate
    from nubes.core.db import create_engine

    engine = create_engine(settings)
    try:
        before = await migrate.current_revision(engine)
        await migrate.upgrade(engine)
        after = await migrate.current_revision(engine)
    finally:
        await engine.dispose()
    return before, after


def _run_migrations(settings: Settings) -> None:
    try:
        before, after = asyncio.run(_migrate(settings))
    except (OSError, TimeoutError) as exc:
        _fail(
            f"NUBES_DATABASE_URL: cannot reach the {settings.database_engine} database ({_reason(exc)}); start it or fix the URL"
        )
    except Exception as exc:
        # Driver errors (bad password, missing database) carry no secret; name the class and message.
        _fail(f"NUBES_DATABASE_URL: {settings.database_engine} refused the connection or migration: {_reason(exc)}")
    if before != after:
        err.print(f"database migrated: {before or 'empty'} -> {after}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (NUBES_HOST, default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (NUBES_PORT, default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (use 1 with SQLite).")] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply pending database migrations before serving.")] = True,
) -> None:
    """Serve the web UI and the API: apply migrations, then listen on NUBES_HOST:NUBES_PORT."""
    import uvicorn

    from nubes.core.logging import configure_logging

    settings = _settings(host=host, port=port)
    configure_logging(settings.log_level, settings.log_format)
    if migrate:
        _run_migrations(settings)
    if not (settings.web_dist / "index.html").is_file():
        err.print(
            f"[yellow]note:[/] the web UI is not built ({settings.web_dist}); `make run` builds it. The API works without it."
        )
    where = f"{settings.database_engine}, data in {settings.data_dir.resolve()}"
    err.print(f"Nubes {__version__} on [bold]http://{settings.host}:{settings.port}[/] ({where})")
    uvicorn.run(
        "nubes.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations (the same ones `nubes serve` applies at start)."""
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


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema (what the web UI's typed client is generated from)."""
    from nubes.main import create_app

    schema = create_app(_settings()).openapi()
    sys.stdout.write(json.dumps(schema, indent=2, sort_keys=False) + "\n")


def main() -> None:
    """Entry point for `python -m nubes`."""
    app(prog_name="nubes")
