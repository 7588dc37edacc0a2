"""The ops domain's background work: metrics collection, alert evaluation and scheduled backups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nubes.core.domain import Background
from nubes.ops.alerts import tasks as alerts_tasks
from nubes.ops.backups import tasks as backups_tasks
from nubes.ops.flags import tasks as flags_tasks
from nubes.ops.metrics import tasks as metrics_tasks

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> Background:
    """Each sub-package's shared objects on `app.state` and background work, metrics first (the others read them)."""
    background = Background()
    for part in (metrics_tasks, flags_tasks, alerts_tasks, backups_tasks):
        installed = part.install(app)
        background.workers += installed.workers
        background.loops += installed.loops
        background.chores += installed.chores
    return background
