"""The domain manifest: what one domain brings to the server, declared once and collected by `nubes.domains`.

A manifest is light on purpose. It holds the domain's permission codes (the catalog and `require()` read them
while modules are still being imported) and names the modules that hold the rest, which are loaded only when
the app, the schema or the test suites ask for them, as Django's INSTALLED_APPS and Python's entry points do:

    Domain(name="files", permissions=PERMISSIONS, models=("nubes.files.tree.models", ...),
           api="nubes.files.api", tasks="nubes.files.tasks")

- `models`: modules whose tables join the schema (`nubes.models` imports them for Alembic).
- `api`: a module with `routers: list[APIRouter]`, mounted under `/api` in the order of `nubes.domains.DOMAINS`.
- `root_api`: a module with `routers: list[APIRouter]` mounted at the root instead, for protocols whose clients
  expect their own paths (WebDAV at `/dav/...`); those routes stay out of the OpenAPI schema.
- `tasks`: a module with `install(app) -> Background`: it puts the domain's shared objects on `app.state`
  (a worker others wake, the agent hub) and returns the workers and loops the server runs while it owns its
  database (tests that bring their own transaction run the work themselves).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from nubes.core.permissions import Permission

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

log = structlog.get_logger("nubes.domain")


@dataclass(frozen=True, slots=True)
class Loop:
    """A coroutine the server runs for its whole life (cancelled at shutdown)."""

    name: str
    run: Callable[[], Coroutine[Any, Any, None]]


def every(name: str, seconds: float, round_: Callable[[], Awaitable[object]], *, last_round: bool = False) -> Loop:
    """A loop that runs `round_` every `seconds`; a failed round is logged and retried next time.

    With `last_round`, one more round runs at shutdown (work buffered in memory, such as last-use times).
    """

    async def run() -> None:
        try:
            while True:
                await asyncio.sleep(seconds)
                try:
                    await round_()
                except Exception:  # retried next time; a failure must not end the loop
                    log.exception("domain.round_failed", loop=name)
        finally:
            if last_round:
                with contextlib.suppress(Exception):
                    await round_()

    return Loop(name=name, run=run)


class Startable(Protocol):
    """A worker the server starts with itself and stops before it exits (`core.jobs.Worker` is one)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(slots=True)
class Background:
    """What a domain runs beside the requests: wakeable job workers, chores, and the process's own loops.

    `workers` and `chores` are the install's background work: they run where `NUBES_JOBS` is on (`nubes serve` by
    default, `nubes worker` always). `loops` belong to each process (a buffer it flushes, a connection it holds)
    and run in every server.
    """

    workers: list[Startable] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    chores: list[Loop] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class Domain:
    """One domain's manifest: its permission codes and the modules holding its tables, routes and tasks."""

    name: str
    title: str
    permissions: tuple[Permission, ...] = ()
    models: tuple[str, ...] = ()
    api: str | None = None
    root_api: str | None = None
    tasks: str | None = None
    admin_permissions: tuple[str, ...] = ()
    """Codes the domain's `{name}-admin` role holds; each tenant gets that role and a `{name}-admin` group with it
    (seed 002's per-service admin group): its members manage the service. Empty: no admin group."""

    def import_models(self) -> None:
        """Import the domain's model modules, so their tables join `Base.metadata`."""
        for module in self.models:
            import_module(module)

    def routers(self) -> list[APIRouter]:
        """The domain's routers (none when it has no API yet)."""
        if self.api is None:
            return []
        routers: list[APIRouter] = import_module(self.api).routers
        return routers

    def root_routers(self) -> list[APIRouter]:
        """The domain's routers mounted at the root, outside `/api` (none for most domains)."""
        if self.root_api is None:
            return []
        routers: list[APIRouter] = import_module(self.root_api).routers
        return routers

    def install(self, app: FastAPI) -> Background:
        """Set up the domain's shared objects on `app.state`; return what it runs in the background."""
        if self.tasks is None:
            return Background()
        install: Callable[[FastAPI], Background] = import_module(self.tasks).install
        return install(app)
