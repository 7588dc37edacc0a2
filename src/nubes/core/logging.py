"""Structured logging: every line is JSON (or readable in a terminal) and carries the request id.

Nubes' own loggers write straight to stderr through structlog (filtered by level before any work is
done: the access log runs on every request); the standard library's records (uvicorn, SQLAlchemy,
Alembic) go through the same processors and renderer, so every line has one shape. Query strings in
any logged value are redacted on the way out: console tickets and presigned tokens ride in them, and
uvicorn's own WebSocket lines print the whole URL.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, TextIO

import orjson
import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's fast file logger, carrying the name `get_logger(name)` was called with."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self._file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(self._file, str(args[0]) if args else "nubes")


_QUERY = re.compile(r"\?[^\s\"'<>]+")
REDACTED = "[redacted]"


def redact_query(text: str) -> str:
    """`text` with the value of every URL query parameter replaced by a marker (names and paths kept)."""
    if "?" not in text:
        return text
    return _QUERY.sub(lambda match: "?" + "&".join(_redacted(part) for part in match.group()[1:].split("&")), text)


def _redacted(part: str) -> str:
    name, equals, _ = part.partition("=")
    return f"{name}={REDACTED}" if equals else REDACTED if part else part


def _redact_query_strings(_logger: Any, _method: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    for key, value in event.items():
        if isinstance(value, str) and "?" in value:
            event[key] = redact_query(value)
    return event


def _processors(fmt: str) -> list[structlog.types.Processor]:
    return [
        structlog.stdlib.add_logger_name,  # works for both: reads `.name` of our loggers, `_record` of stdlib's
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *([structlog.processors.format_exc_info] if fmt == "json" else []),
        _redact_query_strings,  # last: it also sees the formatted traceback
    ]


def _dumps(event: Any, **kwargs: Any) -> str:
    """One JSON line, by orjson (the access log writes one per request), or by the standard library for what orjson
    refuses (text with lone surrogates, integers past 64 bits), so a line is never lost."""
    try:
        return orjson.dumps(event, default=kwargs.get("default"), option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(event, **kwargs)


def _renderer(fmt: str) -> structlog.types.Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer(serializer=_dumps)
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Send structlog and the standard library (uvicorn, SQLAlchemy, Alembic) to stderr in one format."""
    numeric = _LEVELS[level]
    structlog.configure(
        processors=[*_processors(fmt), _renderer(fmt)],
        logger_factory=_NamedWriteLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_processors(fmt),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(fmt)],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # uvicorn installs its own handlers; hand its records to ours and drop its access log (we log requests).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
