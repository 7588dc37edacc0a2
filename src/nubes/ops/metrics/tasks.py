"""What ops/metrics runs beside the requests: the recorder and its requests middleware, the agent hub's heartbeat
listener (nodes' figures), each process's collection loop (host figures and open WebSockets, then one flush), and
the install's chores (install-wide figures; downsampling and retention), each run by one process of the install.

With `NUBES_METRICS=off` the recorder exists (other parts may note values) but nothing is collected or written.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from nubes.core import host
from nubes.core.domain import Background, every
from nubes.core.leases import once_per_install
from nubes.ops.metrics import service
from nubes.ops.metrics.collectors import HostFigures, InstallFigures, NodeFigures, RequestMetrics, note_process
from nubes.ops.metrics.recorder import Recorder

if TYPE_CHECKING:
    from fastapi import FastAPI

    from nubes.config import Settings
    from nubes.core.db import Database

DOWNSAMPLE_EVERY = 60.0
"""Seconds between rounds of downsampling and pruning."""


def install(app: FastAPI) -> Background:
    """The recorder on `app.state.metrics` and the requests middleware; the collection loop and the chores."""
    settings: Settings = app.state.settings
    recorder = app.state.metrics = Recorder()
    if not settings.metrics:
        return Background()
    app.add_middleware(RequestMetrics, recorder=recorder)
    database: Database = app.state.db
    interval = float(settings.metrics_interval)
    replica = HostFigures()
    host.start_cpu_measure()
    nodes = NodeFigures(recorder)
    hub = getattr(app.state, "agent_hub", None)  # compute's, installed before ops
    if hub is not None:
        hub.heartbeat_listeners.append(nodes.heard)

    async def collect() -> None:
        note_process(recorder, replica.samples(await asyncio.to_thread(host.read)))
        await nodes.note_containers(database.reader_sessions)
        await recorder.flush(database.writer_sessions)

    figures = InstallFigures(recorder)

    async def gather() -> None:
        async with database.reader_sessions() as session:
            await figures.gather(session)

    async def downsample() -> None:
        async with database.writer_sessions() as session, session.begin():
            await service.downsample(session=session, lag=int(2 * interval) + 30)
            await service.prune(
                session=session,
                raw_seconds=settings.metrics_raw_retention,
                minute_seconds=settings.metrics_minute_retention,
                hour_seconds=settings.metrics_hour_retention,
            )

    sessions = database.writer_sessions
    return Background(
        loops=[every("nubes-metrics", interval, collect, last_round=True)],
        chores=[
            every("nubes-metrics-install", interval, once_per_install(sessions, "metrics-install", gather, lease=3 * interval)),
            every(
                "nubes-metrics-downsample",
                DOWNSAMPLE_EVERY,
                once_per_install(sessions, "metrics-downsample", downsample, lease=3 * DOWNSAMPLE_EVERY),
            ),
        ],
    )
