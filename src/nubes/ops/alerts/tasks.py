"""What ops/alerts runs beside the requests: the evaluation chore (once per install, every NUBES_ALERTS_INTERVAL
seconds) and the webhook sender (a durable queue's worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.domain import Background, every
from nubes.core.leases import once_per_install
from nubes.core.mail import MailSender
from nubes.ops.alerts import service
from nubes.ops.alerts.notify import WebhookSender

if TYPE_CHECKING:
    from fastapi import FastAPI


async def evaluate_round(
    *, sessions: async_sessionmaker[AsyncSession], mail: MailSender | None, webhooks: WebhookSender | None
) -> tuple[int, int]:
    """Evaluate every rule in one transaction, then wake the senders of what it queued; (e-mails, webhooks)."""
    async with sessions() as session:
        queued = await service.evaluate_all(session=session)
        await session.commit()
    if queued[0] and mail is not None:
        mail.wake()
    if queued[1] and webhooks is not None:
        webhooks.wake()
    return queued


def install(app: FastAPI) -> Background:
    """The webhook sender on `app.state.alerts_webhooks`, and the evaluation chore."""
    settings: Settings = app.state.settings
    sessions = app.state.db.writer_sessions
    webhooks = app.state.alerts_webhooks = WebhookSender(settings, sessions)
    interval = settings.alerts_interval

    async def round_() -> None:
        await evaluate_round(sessions=sessions, mail=getattr(app.state, "mail", None), webhooks=webhooks)

    guarded = once_per_install(sessions, "alerts-evaluate", round_, lease=2 * interval + 60)
    return Background(workers=[webhooks], chores=[every("nubes-alerts-evaluate", interval, guarded)])
