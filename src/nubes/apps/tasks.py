"""The apps domain's background work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nubes.apps.data.feed import FeedHub
from nubes.apps.gateway import tasks as gateway_tasks
from nubes.apps.registry import tasks as registry_tasks
from nubes.core.domain import Background

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> Background:
    """The apps domain's shared objects on `app.state`, and what it runs in the background."""
    app.state.data_feeds = FeedHub(app.state.events)  # the changes feeds' listeners, woken through the event bus
    gateway_loops = gateway_tasks.install(app)  # app.state.gateway: the /apps/<slug>/ proxy
    background = registry_tasks.install(app)  # app.state.apps_fetcher, the health chore
    background.loops += gateway_loops
    return background
