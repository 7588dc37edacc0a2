"""Alerts end to end: rules on recorded metrics fire and resolve, and each transition reaches a real SMTP server and a
real webhook receiver exactly once; silences mute; tenants are kept apart; hostile input is refused."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.compute.clusters.models import Cluster
from nubes.compute.nodes.models import Node
from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.mail import MailSender
from nubes.ops.alerts import evaluate, notify, service
from nubes.ops.alerts.models import AlertDelivery, AlertEvent, AlertInstance, AlertRule
from nubes.ops.alerts.notify import WebhookSender
from nubes.ops.alerts.tasks import evaluate_round
from nubes.ops.backups import service as backups_service
from nubes.ops.backups.engine import Outcome
from nubes.ops.backups.models import BackupRun
from nubes.ops.metrics import service as metrics_service
from nubes.ops.metrics.collectors import InstallFigures
from nubes.ops.metrics.recorder import Recorder
from tests.conftest import make_settings
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.serving import free_port

pytestmark = pytest.mark.usefixtures("client")


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        assert isinstance(envelope.content, bytes)
        self.messages.append(BytesParser().parsebytes(envelope.content))
        return "250 OK"


@dataclass
class Receiver:
    """A webhook receiver on a loopback port: what it was sent, and the status it answers with."""

    port: int
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a loopback port."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mailer(smtp: tuple[Inbox, int], sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> MailSender:
    """The outbox sender pointed at the loopback SMTP server, inside the test's transaction."""
    return MailSender(make_settings(tmp_path, smtp_url=f"smtp+plain://127.0.0.1:{smtp[1]}"), sessions)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP server (aiohttp) that records each POST; it answers 200 unless told otherwise."""
    found = Receiver(port=free_port())

    async def hook(request: web.Request) -> web.Response:
        found.requests.append((dict(request.headers), await request.read()))
        status = found.answers.pop(0) if found.answers else 200
        if status in {301, 302, 307}:
            return web.Response(status=status, headers={"Location": "http://127.0.0.1:1/elsewhere"})
        return web.Response(status=status, text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    yield found
    await runner.cleanup()


@dataclass
class Metrics:
    """The real metrics recorder, each sample flushed to the database at the time it was taken."""

    sessions: async_sessionmaker[AsyncSession]
    recorder: Recorder = field(default_factory=Recorder)

    async def record(self, name: str, value: float, at: datetime, **labels: str) -> None:
        """Record one sample (a counter: what it grew by) taken at `at`."""
        self.recorder.record(name, value, labels, kind=metrics_service.CATALOG[name].kind)
        await self.recorder.flush(self.sessions, at=int(at.timestamp()))


@pytest.fixture
def metrics(sessions: async_sessionmaker[AsyncSession]) -> Metrics:
    """Samples written through the metrics recorder, inside the test's transaction."""
    return Metrics(sessions)


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Check `X-Nubes-Signature` as a receiver would (independently of Nubes' own code)."""
    parts = dict(item.split("=", 1) for item in headers["X-Nubes-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


async def signed_in_admin(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, *, superadmin: bool) -> SignedIn:
    """A tenant admin (or a super-admin) signed in through the API."""
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant, roles=("admin",), superadmin=superadmin)
    await session.commit()
    return await login(client, user)


async def evaluate_at(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """One evaluation round at `now`, committed as the chore commits it."""
    queued = await service.evaluate_all(session=session, now=now)
    await session.commit()
    return queued


async def test_a_full_disk_fires_once_and_resolves_once_by_mail_and_signed_webhook(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
    mailer: MailSender,
    metrics: Metrics,
    receiver: Receiver,
) -> None:
    """GIVEN a disk rule (> 90 % for 5 min) notifying two addresses and a webhook
    WHEN the volume fills past the threshold for 5 minutes, stays full, then is emptied
    THEN the instance goes pending → firing → resolved, and each transition sends one e-mail per address and one
    signed POST, never more."""
    inbox, _ = smtp
    admin = await signed_in_admin(client, session, settings, superadmin=True)
    mails = await client.post(
        "/api/ops/alerts/targets",
        json={"name": "Ops", "kind": "email", "emails": ["ops@example.org", "oncall@example.org"]},
        headers=admin.headers,
    )
    assert mails.status_code == 201, mails.text
    assert mails.json()["secret"] is None
    hook = await client.post(
        "/api/ops/alerts/targets", json={"name": "Pager", "kind": "webhook", "url": receiver.url}, headers=admin.headers
    )
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]
    assert secret.startswith("whsec_")
    listed = await client.get("/api/ops/alerts/targets", headers=admin.headers)
    assert "secret" not in listed.text
    assert secret not in listed.text

    templates = {
        item["key"]: item["rule"] for item in (await client.get("/api/ops/alerts/templates", headers=admin.headers)).json()
    }
    rule_in = {**templates["disk-full"], "target_ids": [mails.json()["id"], hook.json()["id"]]}
    created = await client.post("/api/ops/alerts/rules", json=rule_in, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["scope"] == "platform"
    assert created.json()["unit"] == "ratio"

    start = utcnow()
    total = 10 * 2**30
    for minute in range(7):
        at = start + timedelta(minutes=minute)
        await metrics.record("host_disk_total_bytes", total, at, host="node-1", source="node", mount="/srv/volume")
        await metrics.record("host_disk_used_bytes", total * 0.95, at, host="node-1", source="node", mount="/srv/volume")
        await metrics.record("host_disk_used_bytes", total * 0.20, at, host="node-1", source="node", mount="/")
        await metrics.record("host_disk_total_bytes", total, at, host="node-1", source="node", mount="/")

    assert await evaluate_at(session, start) == (0, 0)
    instance = await session.scalar(select(AlertInstance).where(AlertInstance.state != "inactive"))
    assert instance is not None
    assert (instance.state, instance.labels["mount"]) == ("pending", "/srv/volume")
    assert await evaluate_at(session, start + timedelta(minutes=3)) == (0, 0)
    assert await evaluate_at(session, start + timedelta(minutes=5)) == (2, 1)
    assert await evaluate_at(session, start + timedelta(minutes=6)) == (0, 0)  # still firing: nothing new
    await session.refresh(instance)
    assert instance.state == "firing"
    assert instance.value == pytest.approx(0.95)

    now = (await client.get("/api/ops/alerts/instances", headers=admin.headers)).json()
    assert [(item["state"], item["severity"], item["labels"]["mount"]) for item in now] == [("firing", "warning", "/srv/volume")]

    webhooks = WebhookSender(settings, sessions)
    assert await mailer.send_due() == 2
    assert await webhooks.run_due() == 1
    assert await mailer.send_due() == 0
    assert await webhooks.run_due() == 0
    assert sorted(message["To"] for message in inbox.messages) == ["oncall@example.org", "ops@example.org"]
    assert all("FIRING warning: Disk almost full" in message["Subject"] for message in inbox.messages)
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert verified(secret, headers, body)
    assert not verified("whsec_wrong", headers, body)
    sent = json.loads(body)
    assert (sent["kind"], sent["labels"]["mount"], sent["rule"]["name"]) == ("fired", "/srv/volume", "Disk almost full")
    assert headers["X-Nubes-Delivery"] == sent["id"]

    later = start + timedelta(minutes=8)
    await metrics.record("host_disk_used_bytes", total * 0.50, later, host="node-1", source="node", mount="/srv/volume")
    await metrics.record("host_disk_total_bytes", total, later, host="node-1", source="node", mount="/srv/volume")
    assert await evaluate_at(session, later) == (2, 1)
    assert await evaluate_at(session, later + timedelta(seconds=30)) == (0, 0)
    assert await mailer.send_due() == 2
    assert await webhooks.run_due() == 1
    assert len(inbox.messages) == 4
    assert sum("RESOLVED" in message["Subject"] for message in inbox.messages) == 2
    assert len(receiver.requests) == 2
    assert verified(secret, *receiver.requests[1])
    assert json.loads(receiver.requests[1][1])["kind"] == "resolved"

    history = (await client.get("/api/ops/alerts/events", headers=admin.headers)).json()
    kinds = sorted(item["kind"] for item in history["items"])
    assert kinds == ["fired", "notified", "notified", "notified", "notified", "resolved"]
    assert (await client.get("/api/ops/alerts/instances", headers=admin.headers)).json() == []


async def test_a_silenced_alert_changes_state_but_sends_nothing(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    metrics: Metrics,
    smtp: tuple[Inbox, int],
    mailer: MailSender,
) -> None:
    """GIVEN a firing crash-loop alert silenced from its instance
    WHEN it resolves and fires again
    THEN the states and history change, and no mail leaves; once the silence is expired, the next firing is sent."""
    inbox, _ = smtp
    admin = await signed_in_admin(client, session, settings, superadmin=False)
    target = await client.post(
        "/api/ops/alerts/targets", json={"name": "Team", "kind": "email", "emails": ["team@example.org"]}, headers=admin.headers
    )
    assert target.status_code == 201, target.text
    rule = await client.post(
        "/api/ops/alerts/rules",
        json={
            "name": "Crash loop", "metric": "container_restarts", "reducer": "increase", "window_seconds": 600,
            "comparator": ">=", "threshold": 3, "severity": "critical", "target_ids": [target.json()["id"]],
        },
        headers=admin.headers,
    )  # fmt: skip
    assert rule.status_code == 201, rule.text
    assert rule.json()["scope"] == "tenant"
    tenant_id = str(admin.user.tenant_id)
    start = utcnow()
    other = str((await make_tenant(session)).id)
    for minute, restarts in enumerate([0, 1, 1, 2]):  # a counter records what it grew by
        at = start + timedelta(minutes=minute)
        await metrics.record("container_restarts", restarts, at, container="web", node="n1", tenant=tenant_id)
    await metrics.record("container_restarts", 50, start, container="web", node="n1", tenant=other)  # another tenant's

    assert await evaluate_at(session, start + timedelta(minutes=3)) == (1, 0)
    assert await mailer.send_due() == 1
    now = (await client.get("/api/ops/alerts/instances", headers=admin.headers)).json()
    assert len(now) == 1
    assert now[0]["labels"]["tenant"] == tenant_id

    silence = await client.post(
        "/api/ops/alerts/silences",
        json={"rule_id": rule.json()["id"], "matchers": {"container": "web"}, "duration_seconds": 3600, "comment": "deploying"},
        headers=admin.headers,
    )
    assert silence.status_code == 201, silence.text
    assert silence.json()["active"]
    assert (await client.get("/api/ops/alerts/instances", headers=admin.headers)).json()[0]["silenced"]

    later = start + timedelta(minutes=20)
    await metrics.record("container_restarts", 0, later, container="web", node="n1", tenant=tenant_id)
    assert await evaluate_at(session, later) == (0, 0)  # resolved, silenced
    for minute, restarts in enumerate([1, 1, 2]):
        await metrics.record(
            "container_restarts", restarts, later + timedelta(minutes=minute + 1), container="web", node="n1", tenant=tenant_id
        )
    assert await evaluate_at(session, later + timedelta(minutes=3)) == (0, 0)  # fired again, silenced
    assert await mailer.send_due() == 0
    assert len(inbox.messages) == 1
    silenced_events = await session.scalar(select(func.count()).select_from(AlertEvent).where(AlertEvent.kind == "silenced"))
    assert silenced_events == 2

    expired = await client.delete(f"/api/ops/alerts/silences/{silence.json()['id']}", headers=admin.headers)
    assert expired.status_code == 200, expired.text
    assert not expired.json()["active"]
    end = later + timedelta(minutes=30)
    await metrics.record("container_restarts", 0, end, container="web", node="n1", tenant=tenant_id)
    await evaluate_at(session, end)  # resolves (sent: the silence is over)
    assert await mailer.send_due() == 1
    assert "RESOLVED" in inbox.messages[-1]["Subject"]


async def test_a_node_that_stops_reporting_fires_when_no_data_is_alerting(session: AsyncSession, metrics: Metrics) -> None:
    """GIVEN the node-offline template (node_up < 1 for 60 s, no data alerting)
    WHEN a node reports up, then its samples stop
    THEN its instance goes pending, then firing after a minute, and resolves when the node is back."""
    template = next(item for item in service.TEMPLATES if item.key == "node-offline")
    rule = AlertRule(**template.rule.model_dump(exclude={"target_ids"}), target_ids=[], tenant_id=None)
    session.add(rule)
    await session.flush()
    start = utcnow()
    await metrics.record("node_up", 1, start, node="n1")
    await evaluate_at(session, start)
    assert list(await session.scalars(select(AlertInstance.state))) == ["inactive"]
    await evaluate_at(session, start + timedelta(seconds=10))
    # The node's samples stop: once the last one leaves the 2-minute window, there is no data, which alerts.
    await evaluate_at(session, start + timedelta(minutes=3))
    await evaluate_at(session, start + timedelta(minutes=4))
    states = list(await session.scalars(select(AlertInstance.state)))
    assert states == ["firing"]
    await metrics.record("node_up", 0, start + timedelta(minutes=5), node="n1")
    await evaluate_at(session, start + timedelta(minutes=5))
    assert list(await session.scalars(select(AlertInstance.state))) == ["firing"]
    await metrics.record("node_up", 1, start + timedelta(minutes=6), node="n1")
    await evaluate_at(session, start + timedelta(minutes=6))
    assert list(await session.scalars(select(AlertInstance.state))) == ["resolved"]


def test_reducers() -> None:
    """Counters' increase survives a reset; `age` reads a Unix time; non-finite samples are skipped."""
    now = utcnow()
    points = [(now, value) for value in (5.0, 7.0, 1.0, 3.0, float("nan"))]
    assert evaluate.reduce("increase", points, now=now) == 2 + 1 + 2
    assert evaluate.reduce("max", points, now=now) == 7
    assert evaluate.reduce("avg", points, now=now) == 4
    assert evaluate.reduce("last", points, now=now) == 3
    assert evaluate.reduce("age", [(now, now.timestamp() - 100)], now=now) == pytest.approx(100)
    assert evaluate.reduce("min", [], now=now) is None


async def test_tenants_never_see_or_change_each_others_or_the_platforms_rules(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """A tenant admin sees only the tenant's rules, targets and silences; platform ones answer 404, platform scope 403."""
    root = await signed_in_admin(client, session, settings, superadmin=True)
    alice = await signed_in_admin(client, session, settings, superadmin=False)
    bob = await signed_in_admin(client, session, settings, superadmin=False)
    body = {"name": "Storage", "metric": "storage_used_bytes", "comparator": ">", "threshold": 1e12}
    platform = await client.post("/api/ops/alerts/rules", json=body, headers=root.headers)
    mine = await client.post("/api/ops/alerts/rules", json=body, headers=alice.headers)
    assert platform.status_code == mine.status_code == 201
    hook = await client.post(
        "/api/ops/alerts/targets",
        json={"name": "Hook", "kind": "webhook", "url": "https://hooks.example.org/x"},
        headers=alice.headers,
    )
    assert hook.status_code == 201

    for rule_id in (platform.json()["id"], mine.json()["id"]):
        assert (await client.get(f"/api/ops/alerts/rules/{rule_id}", headers=bob.headers)).status_code == 404
        assert (
            await client.patch(f"/api/ops/alerts/rules/{rule_id}", json={"threshold": 1}, headers=bob.headers)
        ).status_code == 404
        assert (await client.delete(f"/api/ops/alerts/rules/{rule_id}", headers=bob.headers)).status_code == 404
    assert (await client.get(f"/api/ops/alerts/rules/{platform.json()['id']}", headers=alice.headers)).status_code == 404
    assert (await client.get("/api/ops/alerts/rules", headers=bob.headers)).json() == []
    assert [rule["id"] for rule in (await client.get("/api/ops/alerts/rules", headers=alice.headers)).json()] == [
        mine.json()["id"]
    ]
    assert (await client.post(f"/api/ops/alerts/targets/{hook.json()['id']}/test", headers=bob.headers)).status_code == 404
    stolen = await client.post("/api/ops/alerts/rules", json={**body, "target_ids": [hook.json()["id"]]}, headers=bob.headers)
    assert stolen.status_code == 422
    refused = await client.post("/api/ops/alerts/rules", json={**body, "scope": "platform"}, headers=alice.headers)
    assert refused.status_code == 403
    assert "organization" in refused.json()["detail"]
    host = await client.post("/api/ops/alerts/rules", json={**body, "metric": "host_cpu_percent"}, headers=alice.headers)
    assert host.status_code == 422
    assert "platform metric" in host.json()["detail"]
    assert all(
        metric["name"] != "host_cpu_percent"
        for metric in (await client.get("/api/ops/alerts/metrics", headers=alice.headers)).json()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"threshold": 1e300},
        {"name": "x" * 10_000},
        {"name": "   "},
        {"metric": "no_such_metric"},
        {"metric": "Robert'); DROP TABLE alert_rules;--"},
        {"matchers": {f"l{index}": "v" for index in range(9)}},
        {"matchers": {"mount": "x" * 201}},
        {"matchers": {"nonexistent": "x"}},
        {"for_seconds": 86_401},
        {"for_seconds": -1},
        {"comparator": "=="},
        {"reducer": "median"},
        {"target_ids": [str(uuid.uuid4())]},
        {"target_ids": [str(uuid.uuid4()) for _ in range(11)]},
        {"enabled": "yes"},
        {"extra": 1},
    ],
)
async def test_hostile_rules_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, change: dict[str, Any]
) -> None:
    """Out-of-range, unknown or oversized values answer 422 problem+json, and nothing is written."""
    admin = await signed_in_admin(client, session, settings, superadmin=True)
    body = {"name": "Disk", "metric": "host_disk_used_bytes", "comparator": ">", "threshold": 1, **change}
    answer = await client.post("/api/ops/alerts/rules", json=body, headers=admin.headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/ops/alerts/rules", headers=admin.headers)).json() == []


async def test_nan_and_infinite_thresholds_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """JSON's NaN and Infinity extensions do not slip through as thresholds."""
    admin = await signed_in_admin(client, session, settings, superadmin=True)
    for value in ("NaN", "Infinity", "-Infinity"):
        raw = '{"name": "n", "metric": "host_load1", "comparator": ">", "threshold": ' + value + "}"
        answer = await client.post(
            "/api/ops/alerts/rules", content=raw, headers={**admin.headers, "Content-Type": "application/json"}
        )
        assert answer.status_code == 422, (value, answer.text)


async def test_hostile_targets_and_silences_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """Only http(s) webhooks, real addresses, bounded lists and durations."""
    admin = await signed_in_admin(client, session, settings, superadmin=True)
    for body in (
        {"name": "f", "kind": "webhook", "url": "file:///etc/passwd"},
        {"name": "g", "kind": "webhook", "url": "gopher://127.0.0.1:25/"},
        {"name": "n", "kind": "webhook"},
        {"name": "e", "kind": "email", "emails": []},
        {"name": "e", "kind": "email", "emails": ["not an address"]},
        {"name": "e", "kind": "email", "emails": [f"a{index}@example.org" for index in range(21)]},
        {"name": "e", "kind": "sms", "emails": ["a@example.org"]},
    ):
        answer = await client.post("/api/ops/alerts/targets", json=body, headers=admin.headers)
        assert answer.status_code == 422, (body, answer.text)
    for silence in (
        {"duration_seconds": 10, "comment": "short"},
        {"duration_seconds": 31 * 86_400, "comment": "long"},
        {"duration_seconds": 3600, "comment": ""},
        {"duration_seconds": 3600, "comment": "x", "rule_id": str(uuid.uuid4())},
    ):
        answer = await client.post("/api/ops/alerts/silences", json=silence, headers=admin.headers)
        assert answer.status_code in {404, 422}, (silence, answer.text)


async def test_webhooks_retry_until_delivered_and_never_follow_redirects(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    metrics: Metrics,
    receiver: Receiver,
) -> None:
    """GIVEN a receiver that first redirects, then fails
    WHEN the sender retries (after its backoff)
    THEN the third try delivers with the same idempotency key, and the test button reports the receiver's answer."""
    admin = await signed_in_admin(client, session, settings, superadmin=True)
    hook = await client.post(
        "/api/ops/alerts/targets", json={"name": "Pager", "kind": "webhook", "url": receiver.url}, headers=admin.headers
    )
    receiver.answers = [302]
    tested = await client.post(f"/api/ops/alerts/targets/{hook.json()['id']}/test", headers=admin.headers)
    assert tested.status_code == 200
    assert not tested.json()["ok"]
    assert "redirects are not followed" in tested.json()["detail"]
    tested = await client.post(f"/api/ops/alerts/targets/{hook.json()['id']}/test", headers=admin.headers)
    assert tested.json()["ok"], tested.text
    assert verified(hook.json()["secret"], *receiver.requests[-1])

    rule = await client.post(
        "/api/ops/alerts/rules",
        json={"name": "Load", "metric": "host_load1", "comparator": ">", "threshold": 4, "target_ids": [hook.json()["id"]]},
        headers=admin.headers,
    )
    start = utcnow()
    await metrics.record("host_load1", 9, start, host="r1", source="replica")
    assert await evaluate_at(session, start) == (0, 1)
    receiver.requests.clear()
    receiver.answers = [302, 500]
    webhooks = WebhookSender(settings, sessions)
    assert await webhooks.run_due() == 0
    assert await webhooks.run_due() == 0  # not due yet: backing off
    delivery = await session.scalar(select(AlertDelivery))
    assert delivery is not None
    for _ in range(2):
        await session.refresh(delivery)
        delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
        await session.commit()
        await webhooks.run_due()
    assert len(receiver.requests) == 3
    assert len({headers["X-Nubes-Delivery"] for headers, _ in receiver.requests}) == 1
    await session.refresh(delivery)
    assert delivery.sent_at is not None
    assert delivery.attempts == 3
    history = (await client.get(f"/api/ops/alerts/events?rule_id={rule.json()['id']}", headers=admin.headers)).json()
    assert sorted(item["kind"] for item in history["items"]) == ["fired", "notified"]


async def test_the_evaluation_round_commits_and_wakes_the_senders(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], metrics: Metrics, mailer: MailSender
) -> None:
    """The chore's round evaluates in its own transaction; a rule on a metric with no samples stays quiet."""
    session.add(
        AlertRule(
            tenant_id=None, name="Queue", metric="jobs_queued", matchers={}, reducer="max", window_seconds=300,
            comparator=">", threshold=100, for_seconds=0, severity="info", no_data="ok", enabled=True, target_ids=[],
        )
    )  # fmt: skip
    await session.commit()
    assert await evaluate_round(sessions=sessions, mail=mailer, webhooks=None) == (0, 0)
    await metrics.record("jobs_queued", 500, utcnow(), queue="mail")
    assert await evaluate_round(sessions=sessions, mail=mailer, webhooks=None) == (0, 0)
    assert list(await session.scalars(select(AlertInstance.state))) == ["firing"]
    assert notify.describe({"b": "2", "a": "1"}) == "a=1, b=2"


async def test_a_node_whose_agent_disconnects_fires_node_offline_from_the_collected_figures(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], metrics: Metrics
) -> None:
    """GIVEN the node-offline template on one node, and the metrics collector that records `node_up` for every node
    WHEN the node goes offline (as the agent hub marks it when the agent's socket closes) and stays so for a minute
    THEN the alert goes pending, then fires; it resolves once the node is back online."""
    cluster = Cluster(name=f"alerts-{uuid.uuid4().hex[:8]}")
    session.add(cluster)
    await session.flush()
    node = Node(
        cluster_id=cluster.id, name=f"alerts-{uuid.uuid4().hex[:8]}", cpu=100, memory_mb=1024, disk_mb=1024, status="online"
    )
    session.add(node)
    await session.flush()
    template = next(item for item in service.TEMPLATES if item.key == "node-offline")
    rule = AlertRule(
        **template.rule.model_dump(exclude={"target_ids", "matchers"}), matchers={"node": str(node.id)}, target_ids=[]
    )
    session.add(rule)
    await session.commit()
    figures = InstallFigures(metrics.recorder)

    async def collect_and_evaluate(at: datetime) -> str:
        await figures.gather(session)
        await metrics.recorder.flush(sessions, at=int(at.timestamp()))
        await evaluate_at(session, at)
        instance = await session.scalar(select(AlertInstance).where(AlertInstance.rule_id == rule.id))
        assert instance is not None
        await session.refresh(instance)
        return instance.state

    start = utcnow()
    assert await collect_and_evaluate(start) == "inactive"
    node.status = "offline"
    await session.commit()
    assert await collect_and_evaluate(start + timedelta(seconds=15)) == "pending"
    assert await collect_and_evaluate(start + timedelta(seconds=45)) == "pending"
    assert await collect_and_evaluate(start + timedelta(seconds=75)) == "firing"
    node.status = "online"
    await session.commit()
    assert await collect_and_evaluate(start + timedelta(seconds=90)) == "resolved"
    kinds = list(await session.scalars(select(AlertEvent.kind).where(AlertEvent.rule_id == rule.id).order_by(AlertEvent.at)))
    assert kinds == ["fired", "resolved"]


async def test_backup_rules_fire_before_the_first_backup_and_on_a_failed_one(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], metrics: Metrics
) -> None:
    """GIVEN the no-recent-backup and backup-failed templates on an install that never made a backup
    THEN "no recent backup" fires (a missing figure is no data, and its rule alerts on no data), "backup failed" does
    not; WHEN a backup succeeds THEN the first resolves; WHEN the next one fails THEN "backup failed" fires."""
    rules = {}
    for key in ("backup-missing", "backup-failed"):
        template = next(item for item in service.TEMPLATES if item.key == key)
        rules[key] = AlertRule(**template.rule.model_dump(exclude={"target_ids", "matchers"}), matchers={}, target_ids=[])
        session.add(rules[key])
    await session.commit()
    figures = InstallFigures(metrics.recorder)

    async def collect_and_evaluate(at: datetime) -> dict[str, str]:
        await figures.gather(session)
        await metrics.recorder.flush(sessions, at=int(at.timestamp()))
        # A day's window reads the 1-minute tier: sum the minute up as the chore does once it is complete.
        await metrics_service.downsample(session=session, now=int(at.timestamp()) + 120, lag=0)
        await evaluate_at(session, at)
        states = {}
        for key, rule in rules.items():
            instance = await session.scalar(select(AlertInstance).where(AlertInstance.rule_id == rule.id))
            if instance is not None:
                await session.refresh(instance)
            states[key] = "none" if instance is None else instance.state
        return states

    start = utcnow()
    assert await collect_and_evaluate(start) == {"backup-missing": "firing", "backup-failed": "none"}
    done = BackupRun(trigger="cli", status="running", started_at=utcnow())
    session.add(done)
    await session.flush()
    made = Outcome(snapshot_id="a" * 64, bytes_added=1, total_bytes=1, files=1, seconds=1.0, verified=True, verify_detail="")
    await backups_service.succeed(session=session, run_id=done.id, outcome=made)
    await session.commit()
    assert await collect_and_evaluate(start + timedelta(minutes=3)) == {"backup-missing": "resolved", "backup-failed": "inactive"}
    failed = BackupRun(trigger="schedule", status="running", started_at=utcnow())
    session.add(failed)
    await session.flush()
    await backups_service.fail(session=session, run_id=failed.id, error="the repository is gone", seconds=1.0)
    await session.commit()
    assert await collect_and_evaluate(start + timedelta(minutes=6)) == {"backup-missing": "resolved", "backup-failed": "firing"}


async def test_a_tenants_webhook_cannot_reach_inside_the_network(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, receiver: Receiver
) -> None:
    """A tenant admin's webhook to a loopback address is not called (a platform one may be); credentials in a URL are
    refused."""
    alice = await signed_in_admin(client, session, settings, superadmin=False)
    hook = await client.post(
        "/api/ops/alerts/targets", json={"name": "Inside", "kind": "webhook", "url": receiver.url}, headers=alice.headers
    )
    assert hook.status_code == 201, hook.text
    tested = await client.post(f"/api/ops/alerts/targets/{hook.json()['id']}/test", headers=alice.headers)
    assert not tested.json()["ok"]
    assert "internal address" in tested.json()["detail"]
    assert receiver.requests == []
    for url in ("http://user:pw@hooks.example.org/x", "http://169.254.169.254/latest/meta-data"):
        made = await client.post(
            "/api/ops/alerts/targets", json={"name": "x", "kind": "webhook", "url": url}, headers=alice.headers
        )
        if made.status_code == 201:
            tested = await client.post(f"/api/ops/alerts/targets/{made.json()['id']}/test", headers=alice.headers)
            assert not tested.json()["ok"]
            assert "link-local" in tested.json()["detail"]
        else:
            assert made.status_code == 422


async def test_unresolvable_or_strange_webhook_hosts_are_reported_not_raised() -> None:
    """A host name IDNA cannot encode, or that does not resolve, is a failed delivery with a reason (never a 500)."""
    assert "cannot resolve" in (await notify.refusal("http://\U000f65f0.example/", private_ok=True) or "")
    outcome = await notify.post(url="http://\U000f65f0.example/", secret="s", key="k", body={}, private_ok=True)
    assert not outcome.ok
    assert await notify.refusal("http://127.0.0.1:1/", private_ok=True) is None


async def test_a_webhook_goes_to_the_address_that_was_checked(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a host name whose first lookup answers a loopback address (allowed for a platform target) and every later
    lookup an address that must not be called (DNS rebinding) WHEN the webhook is sent THEN it reaches the address of
    the first lookup, with the name in Host: Nubes resolves once, checks, and connects to what it checked.
    (The lookups are replaced, as no DNS server of ours runs here; the HTTP exchange is real.)"""
    loop = asyncio.get_running_loop()
    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]])

    async def rebinding(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "hooks.rebind.test"
        return next(answers, [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 0))])

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    port = urlsplit(receiver.url).port
    outcome = await notify.post(
        url=f"http://hooks.rebind.test:{port}/hook", secret="whsec_x", key="k-1", body={"a": 1}, private_ok=True
    )
    assert outcome.ok, outcome.detail
    [(headers, body)] = receiver.requests
    assert headers["Host"] == f"hooks.rebind.test:{port}"
    assert json.loads(body) == {"a": 1}
    refused = await notify.post(url=f"http://hooks.rebind.test:{port}/hook", secret="s", key="k-2", body={}, private_ok=True)
    assert not refused.ok
    assert "link-local" in refused.detail
    assert len(receiver.requests) == 1


def test_a_pinned_url_keeps_path_query_port_and_the_name_for_tls() -> None:
    target, host, extensions = notify.pinned("https://hooks.example.org:8443/a/b?x=1", "2001:db8::1")
    assert (target, host, extensions) == (
        "https://[2001:db8::1]:8443/a/b?x=1",
        "hooks.example.org:8443",
        {"sni_hostname": "hooks.example.org"},
    )
    assert notify.pinned("http://hooks.example.org/h", "192.0.2.7") == ("http://192.0.2.7/h", "hooks.example.org", {})
