"""Outgoing mail through a durable outbox.

A message is written to `mail_outbox` in the same transaction as what it announces (a reset token, a
verification link), so it is sent exactly when that commits and is never lost: the sender (a `jobs.Worker`)
delivers due messages once a request that queued some commits, and retries failures with backoff, also
after a restart.
Once sent, a message's body (which holds one-time links) is erased.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib
import structlog
from sqlalchemy import Index, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from nubes.config import Settings
from nubes.core.db import Base, utcnow
from nubes.core.jobs import Worker, backoff, claim

log = structlog.get_logger("nubes.mail")

MAX_ATTEMPTS = 8


class OutboxMail(Base):
    """One message waiting to be sent (or sent, with its body erased)."""

    __tablename__ = "mail_outbox"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)


Index("ix_mail_outbox_due", OutboxMail.sent_at, OutboxMail.next_attempt_at)


async def enqueue(*, session: AsyncSession, to: str, subject: str, body: str) -> OutboxMail:
    """Queue a plain-text message; it leaves when the caller's transaction commits."""
    mail = OutboxMail(to_address=to, subject=subject, body=body)
    session.add(mail)
    await session.flush()
    return mail


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where and how to connect, parsed from NUBES_SMTP_URL."""

    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: STARTTLS when the server offers it

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        scheme = parts.scheme
        default_port = {"smtps": 465, "smtp+plain": 25}.get(scheme, 587)
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=scheme == "smtps",
            start_tls=False if scheme in {"smtps", "smtp+plain"} else None,
        )


class MailSender(Worker):
    """Delivers due outbox messages: after each request that queued mail, and every minute for retries."""

    name = "nubes-mail-sender"
    log_prefix = "mail"
    interval = 60.0

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._settings = settings
        self._sessions = sessions

    async def run_due(self) -> int:
        """One round of the worker loop: send what is due."""
        return await self.send_due()

    async def send_due(self) -> int:
        """Send every message that is due; return how many went out."""
        sent = 0
        async with self._sessions() as session:
            now = utcnow()
            due = list(
                await session.scalars(
                    select(OutboxMail)
                    .where(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now, OutboxMail.attempts < MAX_ATTEMPTS)
                    .order_by(OutboxMail.created_at)
                    .limit(50)
                )
            )
            await session.commit()
        for mail in due:
            if await self._claim(mail):
                sent += await self._deliver(mail)
        return sent

    async def _claim(self, mail: OutboxMail) -> bool:
        """Lease the message so no other sender (another replica) sends it at the same time."""
        return await claim(
            self._sessions,
            update(OutboxMail)
            .where(OutboxMail.id == mail.id, OutboxMail.next_attempt_at == mail.next_attempt_at, OutboxMail.sent_at.is_(None))
            .values(next_attempt_at=utcnow() + timedelta(seconds=self._settings.job_lease)),
        )

    async def _deliver(self, mail: OutboxMail) -> int:
        error: str | None = None
        try:
            await self._transmit(mail)
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("mail.failed", mail_id=str(mail.id), attempt=mail.attempts + 1, error=error)
        async with self._sessions() as session:
            values: dict[str, object]
            if error is None:
                values = {"sent_at": utcnow(), "body": "", "attempts": mail.attempts + 1, "last_error": None}
            else:
                values = {
                    "attempts": mail.attempts + 1,
                    "last_error": error,
                    "next_attempt_at": utcnow() + backoff(mail.attempts),
                }
            await session.execute(update(OutboxMail).where(OutboxMail.id == mail.id).values(**values))
            await session.commit()
        return int(error is None)

    async def _transmit(self, mail: OutboxMail) -> None:
        if not self._settings.smtp_url:
            # No SMTP server configured (the embedded default): the operator reads the message in the log.
            log.warning(
                "mail.logged_not_sent",
                to=mail.to_address,
                subject=mail.subject,
                body=mail.body,
                hint="set NUBES_SMTP_URL to send mail",
            )
            return
        target = SmtpTarget.parse(self._settings.smtp_url)
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = mail.to_address
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain="nubes")
        message.set_content(mail.body)
        await aiosmtplib.send(
            message,
            hostname=target.hostname,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=30,
        )
        log.info("mail.sent", mail_id=str(mail.id), subject=mail.subject)
