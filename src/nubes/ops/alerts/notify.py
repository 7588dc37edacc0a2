"""Notifications of alert transitions: e-mail through the mail outbox, signed webhook POSTs through a durable queue.

Each transition (fired, resolved) is announced once per target, in the transaction that records it: e-mails go
into `mail_outbox`, webhooks into `alert_deliveries`, so a crash either loses both the transition and its messages or
keeps both. The webhook sender delivers at least once: a retry after a crash repeats the delivery's idempotency key
(`X-Nubes-Delivery`) so the receiver can drop the duplicate. A silenced instance sends nothing (a `silenced` event
says so in the history).

Webhook requests carry `X-Nubes-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core import crypto, mail
from nubes.core.db import utcnow
from nubes.core.jobs import Worker, backoff, claim
from nubes.ops.alerts.evaluate import Transition
from nubes.ops.alerts.models import AlertDelivery, AlertEvent, AlertRule, AlertSilence, AlertTarget

log = structlog.get_logger("nubes.alerts")

SECRET_PURPOSE = "ops.alerts.webhook-secret"  # noqa: S105 (the seal's purpose, not a secret)
TIMEOUT = 5.0
MAX_ATTEMPTS = 8
SIGNATURE_HEADER = "X-Nubes-Signature"
DELIVERY_HEADER = "X-Nubes-Delivery"


def new_secret() -> str:
    """A fresh webhook signing secret (shown once, then kept sealed)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Nubes-Signature` value of `body` sent at `timestamp`."""
    return f"t={timestamp},v1={crypto.sign_hex(secret.encode(), str(timestamp).encode() + b'.' + body)}"


def silenced(silences: Sequence[AlertSilence], *, rule: AlertRule, labels: dict[str, str]) -> bool:
    """Whether one of the (active) silences covers this instance of `rule`."""
    return any(
        silence.tenant_id == rule.tenant_id
        and (silence.rule_id is None or silence.rule_id == rule.id)
        and all(labels.get(key) == value for key, value in silence.matchers.items())
        for silence in silences
    )


async def active_silences(*, session: AsyncSession, now: datetime) -> list[AlertSilence]:
    """The silences in force at `now`, of every tenant (the evaluator matches them by tenant)."""
    return list(await session.scalars(select(AlertSilence).where(AlertSilence.starts_at <= now, AlertSilence.ends_at > now)))


def describe(labels: dict[str, str]) -> str:
    """Labels as `key=value, ...` for a subject line."""
    return ", ".join(f"{key}={value}" for key, value in sorted(labels.items()))


def payload(*, key: str, kind: str, rule: AlertRule, labels: dict[str, str], value: float | None, at: datetime) -> dict[str, Any]:
    """The JSON body of a webhook delivery."""
    return {
        "id": key,
        "kind": kind,
        "rule": {
            "id": str(rule.id), "name": rule.name, "severity": rule.severity, "metric": rule.metric,
            "comparator": rule.comparator, "threshold": rule.threshold, "for_seconds": rule.for_seconds,
        },
        "labels": labels,
        "value": value,
        "at": at.isoformat(),
        "tenant_id": str(rule.tenant_id) if rule.tenant_id else None,
    }  # fmt: skip


def _mail_text(transition: Transition) -> tuple[str, str]:
    rule, labels = transition.rule, transition.instance.labels
    state = "FIRING" if transition.kind == "fired" else "RESOLVED"
    subject = f"[Nubes] {state} {rule.severity}: {rule.name}" + (f" ({describe(labels)})" if labels else "")
    value = "no data" if transition.value is None else f"{transition.value:g}"
    body = "\n".join(
        [
            f"{rule.name} is {state.lower()}.",
            "",
            f"Condition: {rule.metric} ({rule.reducer}) {rule.comparator} {rule.threshold:g} for {rule.for_seconds} s",
            f"Value now: {value}",
            f"Series: {describe(labels) or '(no labels)'}",
            f"Since: {transition.instance.since.isoformat()}",
            "",
            "Open Monitoring → Alerts in Nubes to see the history, or to silence this alert while you work on it.",
        ]
    )
    return subject[:300], body


async def announce(*, session: AsyncSession, transitions: Sequence[Transition], now: datetime) -> tuple[int, int]:
    """Queue the messages of `transitions` in the caller's transaction; how many (e-mails, webhooks) were queued."""
    if not transitions:
        return 0, 0
    silences = await active_silences(session=session, now=now)
    wanted = {uuid.UUID(target_id) for item in transitions for target_id in item.rule.target_ids}
    targets = {target.id: target for target in await session.scalars(select(AlertTarget).where(AlertTarget.id.in_(wanted)))}
    mails = hooks = 0
    for item in transitions:
        rule, instance = item.rule, item.instance
        if silenced(silences, rule=rule, labels=instance.labels):
            session.add(
                _event(
                    rule,
                    instance.labels,
                    kind="silenced",
                    value=item.value,
                    at=now,
                    detail=f"{item.kind}: nothing sent (silenced)",
                )
            )
            continue
        for target_id in rule.target_ids:
            target = targets.get(uuid.UUID(target_id))
            if target is None or target.tenant_id != rule.tenant_id:
                continue
            if target.kind == "email":
                subject, body = _mail_text(item)
                for address in target.emails:
                    await mail.enqueue(session=session, to=address, subject=subject, body=body)
                mails += len(target.emails)
                detail = f"{item.kind}: e-mail queued for {len(target.emails)} address(es) of {target.name}"
                session.add(_event(rule, instance.labels, kind="notified", value=item.value, at=now, detail=detail))
            else:
                key = f"{instance.id}:{item.kind}:{int(instance.since.timestamp())}:{target.id}"
                body_json = payload(key=key, kind=item.kind, rule=rule, labels=instance.labels, value=item.value, at=now)
                session.add(AlertDelivery(key=key, target_id=target.id, rule_id=rule.id, payload=body_json))
                hooks += 1
    await session.flush()
    return mails, hooks


def _event(rule: AlertRule, labels: dict[str, str], *, kind: str, value: float | None, at: datetime, detail: str) -> AlertEvent:
    return AlertEvent(
        rule_id=rule.id, tenant_id=rule.tenant_id, rule_name=rule.name, severity=rule.severity,
        labels=labels, kind=kind, value=value, detail=detail[:500], at=at,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one webhook POST went."""

    ok: bool
    detail: str


async def refusal(url: str, *, private_ok: bool) -> str | None:
    """Why Nubes will not call `url` (None: it will): link-local (cloud metadata), multicast and unspecified addresses
    never; loopback and private ones only for platform targets, so a tenant cannot reach inside the network."""
    refused, _address = await checked_address(url, private_ok=private_ok)
    return refused


async def checked_address(url: str, *, private_ok: bool) -> tuple[str | None, str | None]:
    """The host of `url` resolved once and checked (see `refusal`): the reason it is refused, or the address to call."""
    host = urlsplit(url).hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"cannot resolve {host}: {exc}"[:500], None
    addresses = [ipaddress.ip_address(str(address_info[0]).split("%", 1)[0]) for *_rest, address_info in found]
    for address in addresses:
        if address.is_link_local or address.is_multicast or address.is_unspecified:
            return f"{host} is a link-local, multicast or unspecified address, which Nubes does not call", None
        if not private_ok and (address.is_private or address.is_loopback or address.is_reserved):
            return f"{host} is an internal address: only platform administrators may send webhooks inside the network", None
    if not addresses:
        return f"cannot resolve {host}", None
    return None, str(addresses[0])


def pinned(url: str, address: str) -> tuple[str, str, dict[str, Any]]:
    """`url` sent to `address` itself (the one checked, so a second lookup cannot point it inside the network): the
    URL to connect to, the Host header, and the request extensions that keep TLS checking the name (SNI)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    extensions: dict[str, Any] = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, host + port, parts.path, parts.query, "")), parts.netloc.rpartition("@")[2], extensions


async def post(*, url: str, secret: str, key: str, body: dict[str, Any], private_ok: bool) -> Outcome:
    """POST one signed delivery: 5 s timeout, no redirects, no proxy from the environment, to the address that was
    checked (no internal one for a tenant's target); ok on a 2xx."""
    refused, address = await checked_address(url, private_ok=private_ok)
    if refused is not None or address is None:
        return Outcome(ok=False, detail=refused or "cannot resolve the host")
    raw = json.dumps(body, separators=(",", ":")).encode()
    try:
        target, host, extensions = pinned(url, address)
        headers = {
            "Host": host,
            "Content-Type": "application/json",
            "User-Agent": "Nubes-Alerts/1",
            SIGNATURE_HEADER: signature(secret, int(time.time()), raw),
            DELIVERY_HEADER: key,
        }
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            answer = await client.post(target, content=raw, headers=headers, extensions=extensions)
    except (httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError) as exc:
        return Outcome(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= answer.status_code < 300:
        return Outcome(ok=True, detail=f"HTTP {answer.status_code}")
    if 300 <= answer.status_code < 400:
        return Outcome(ok=False, detail=f"HTTP {answer.status_code}: redirects are not followed; give the final URL")
    return Outcome(ok=False, detail=f"HTTP {answer.status_code}")


class WebhookSender(Worker):
    """Delivers due webhook POSTs: woken after each evaluation that queued some, and every 30 s for retries."""

    name = "nubes-alerts-webhooks"
    log_prefix = "alerts.webhooks"
    interval = 30.0

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._settings = settings
        self._sessions = sessions

    async def run_due(self) -> int:
        """One round of the worker loop: send what is due, return how many succeeded."""
        async with self._sessions() as session:
            now = utcnow()
            due = list(
                await session.scalars(
                    select(AlertDelivery)
                    .where(
                        AlertDelivery.sent_at.is_(None),
                        AlertDelivery.next_attempt_at <= now,
                        AlertDelivery.attempts < MAX_ATTEMPTS,
                    )
                    .order_by(AlertDelivery.created_at)
                    .limit(50)
                )
            )
            await session.commit()
        sent = 0
        for delivery in due:
            if await self._claim(delivery):
                sent += await self._deliver(delivery)
        return sent

    async def _claim(self, delivery: AlertDelivery) -> bool:
        return await claim(
            self._sessions,
            update(AlertDelivery)
            .where(
                AlertDelivery.id == delivery.id,
                AlertDelivery.next_attempt_at == delivery.next_attempt_at,
                AlertDelivery.sent_at.is_(None),
            )
            .values(next_attempt_at=utcnow() + timedelta(seconds=self._settings.job_lease)),
        )

    async def _deliver(self, delivery: AlertDelivery) -> int:
        async with self._sessions() as session:
            target = await session.get(AlertTarget, delivery.target_id)
            await session.commit()
        if target is None:
            return 0
        try:
            secret = crypto.unseal(self._settings.secret_key, SECRET_PURPOSE, target.secret_sealed)
        except crypto.SealError:
            outcome = Outcome(ok=False, detail="the signing secret cannot be opened: delete the target and add it again")
        else:
            outcome = await post(
                url=target.url, secret=secret, key=delivery.key, body=delivery.payload, private_ok=target.tenant_id is None
            )
        attempts = delivery.attempts + 1
        async with self._sessions() as session:
            values: dict[str, object] = {"attempts": attempts, "last_error": None if outcome.ok else outcome.detail}
            if outcome.ok:
                values["sent_at"] = utcnow()
            else:
                values["next_attempt_at"] = utcnow() + backoff(delivery.attempts, base=10, cap=600)
                log.warning("alerts.webhook_failed", delivery=delivery.key, attempt=attempts, error=outcome.detail)
            await session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery.id).values(**values))
            event = _delivery_event(delivery, target, outcome, attempts)
            if event is not None and (outcome.ok or attempts >= MAX_ATTEMPTS):
                session.add(event)
            await session.commit()
        return int(outcome.ok)


def _delivery_event(delivery: AlertDelivery, target: AlertTarget, outcome: Outcome, attempts: int) -> AlertEvent | None:
    rule: dict[str, Any] = delivery.payload.get("rule", {})
    if delivery.rule_id is None:
        return None
    tenant = delivery.payload.get("tenant_id")
    kind = delivery.payload.get("kind", "")
    detail = f"{kind}: webhook {target.name}: {outcome.detail}" + ("" if outcome.ok else f" (gave up after {attempts} tries)")
    return AlertEvent(
        rule_id=delivery.rule_id, tenant_id=uuid.UUID(tenant) if tenant else None, rule_name=str(rule.get("name", ""))[:100],
        severity=str(rule.get("severity", "")), labels=delivery.payload.get("labels", {}),
        kind="notified" if outcome.ok else "failed", value=delivery.payload.get("value"), detail=detail[:500],
    )  # fmt: skip
