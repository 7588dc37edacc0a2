"""The AI assistant on both engines: an organization's OpenAI-compatible provider, set up by its `ai-service-admin`
group, with "Test connection", and suggestions made from its answers once a document's text is read.

No real model can run on this machine, so the provider is a stub started here: a small OpenAI-compatible HTTP server
(`http.server` in a thread, on a free port of 127.0.0.1) that records every request it gets and answers as a chat
completion API would. Everything on Nubes' side is real: the routes, the sealed key, the database, the worker and
its retries, the HTTP client and its address checks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.documents.assistant import provider as providers
from nubes.documents.assistant.models import AssistantJob, AssistantSettings
from nubes.documents.assistant.tasks import MAX_ATTEMPTS, AssistantWorker
from nubes.documents.extraction.tasks import ExtractionWorker
from nubes.identity.tenants.models import Tenant
from tests.documents.conftest import Team, upload_document
from tests.factories import SignedIn, login, make_user

KEY = "sk-test-5f1e9c2b7a64d3e8"
URL = "/api/documents/assistant"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Stub:
    """An OpenAI-compatible provider: `/v1/models` and `/v1/chat/completions`, with the key it expects."""

    port: int = 0
    key: str = KEY
    answer: Any = field(default_factory=dict)
    status: int = 200  # what chat completions answer with (a 503 while "down")
    delay: float = 0.0
    requests: list[Seen] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet
            return

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # Nubes gave up waiting (a timeout test)
                self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            stub.requests.append(Seen(self.command, self.path, dict(self.headers), json.loads(raw) if raw else None))
            if stub.delay:
                time.sleep(stub.delay)
            given = self.headers.get("Authorization", "")
            if given != f"Bearer {stub.key}":
                # Like some providers, it echoes what it was given: Nubes must not pass that on.
                self._reply(401, {"error": {"message": f"Incorrect API key provided: {given.removeprefix('Bearer ')}"}})
            elif self.path == "/v1/models" and self.command == "GET":
                self._reply(200, {"object": "list", "data": [{"id": "stub-1", "object": "model"}, {"id": "stub-2"}]})
            elif self.path == "/v1/chat/completions" and self.command == "POST":
                if stub.status != 200:
                    self._reply(stub.status, {"error": {"message": "overloaded"}})
                    return
                content = stub.answer if isinstance(stub.answer, str) else json.dumps(stub.answer)
                self._reply(200, {"id": "c1", "object": "chat.completion", "choices": [{"message": {"content": content}}]})
            else:
                self._reply(404, {"error": {"message": "no such route"}})

        do_GET = _handle  # noqa: N815 - http.server's names
        do_POST = _handle  # noqa: N815

    return Handler


@contextlib.contextmanager
def provider_stub() -> Iterator[Stub]:
    """The stub provider, serving on a free port of 127.0.0.1 in a thread until the block ends."""
    found = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    with provider_stub() as running:
        yield running


@pytest.fixture
def local_providers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The server allows providers on private addresses (the stub is on 127.0.0.1), as NUBES_AI_ALLOW_PRIVATE_URLS does."""
    monkeypatch.setattr(settings, "ai_allow_private_urls", True)
    return settings


@pytest.fixture
def assistant(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> AssistantWorker:
    """The worker the app runs, bound to the test's transaction."""
    return AssistantWorker(sessions, settings, lease=timedelta(minutes=5))


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
async def owner(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, team: Team) -> SignedIn:
    """The owner of the team's tenant: who may put people into `ai-service-admin` (one grants only codes one holds, and
    the tenant admin role has no `ai.manage`: sending documents to an outside provider is the owner's call)."""
    tenant = await session.get(Tenant, team.alice.user.tenant_id)
    assert tenant is not None
    return await login(client, await make_user(session, settings, tenant, roles=("owner",)))


async def _ai_admin(client: httpx.AsyncClient, owner: SignedIn, who: SignedIn) -> str:
    """Put `who` into the tenant's `ai-service-admin` group; the group's id."""
    groups = await _json(await client.get("/api/admin/groups", headers=owner.headers), 200)
    group = next(entry for entry in groups if entry["name"] == "ai-service-admin")
    joined = await client.put(f"/api/admin/groups/{group['id']}/members/{who.user.id}", headers=owner.headers)
    assert joined.status_code == 204, joined.text
    return str(group["id"])


def _setup(stub: Stub, **change: Any) -> dict[str, Any]:
    return {"enabled": True, "base_url": stub.base_url, "model": "stub-1", "api_key": KEY, **change}


async def test_only_the_ai_service_admins_set_it_up_and_the_key_never_comes_back(
    *, client: httpx.AsyncClient, session: AsyncSession, team: Team, owner: SignedIn, stub: Stub, local_providers: Settings
) -> None:
    # A member, and even the tenant admin (documents.manage), may not see or change it; the group's members may
    # (the tenant admin cannot put anyone in that group either: it would grant a code the admin does not hold).
    for who in (team.alice, team.manager):
        assert (await client.get(URL, headers=who.headers)).status_code == 403
        assert (await client.put(URL, json=_setup(stub), headers=who.headers)).status_code == 403
        assert (await client.post(f"{URL}/test", headers=who.headers)).status_code == 403
    groups = await _json(await client.get("/api/admin/groups", headers=team.manager.headers), 200)
    group = next(entry for entry in groups if entry["name"] == "ai-service-admin")
    escalation = await client.put(f"/api/admin/groups/{group['id']}/members/{team.manager.user.id}", headers=team.manager.headers)
    assert escalation.status_code == 403
    group_id = await _ai_admin(client, owner, team.alice)
    fresh = await _json(await client.get(URL, headers=team.alice.headers), 200)
    assert (fresh["enabled"], fresh["key_set"], fresh["prompt_is_default"]) == (False, False, True)
    assert fresh["system_prompt"] == fresh["default_prompt"]

    saved = await _json(await client.put(URL, json=_setup(stub, base_url=stub.base_url + "/"), headers=team.alice.headers), 200)
    assert (saved["enabled"], saved["base_url"], saved["model"], saved["key_set"]) == (True, stub.base_url, "stub-1", True)
    assert KEY not in json.dumps(saved)
    assert "api_key" not in saved
    again = await client.get(URL, headers=team.alice.headers)
    assert KEY not in again.text

    # At rest the key is sealed with the server secret, not stored as given.
    row = await session.scalar(select(AssistantSettings).where(AssistantSettings.tenant_id == team.alice.user.tenant_id))
    assert row is not None
    assert row.api_key_sealed is not None
    assert KEY not in row.api_key_sealed

    # Leaving the key out keeps it; the prompt can be changed and reset to the default.
    kept = await _json(
        await client.put(URL, json={**_setup(stub), "api_key": None, "system_prompt": "Be brief."}, headers=team.alice.headers),
        200,
    )
    assert (kept["key_set"], kept["system_prompt"], kept["prompt_is_default"]) == (True, "Be brief.", False)
    reset = await _json(await client.put(URL, json={**_setup(stub), "api_key": None}, headers=team.alice.headers), 200)
    assert reset["prompt_is_default"] is True
    removed = await _json(
        await client.put(
            URL, json={"enabled": False, "base_url": stub.base_url, "remove_api_key": True}, headers=team.alice.headers
        ),
        200,
    )
    assert removed["key_set"] is False
    # Bad input: both key changes at once, no URL or model to turn it on with, a key with a newline, unknown fields.
    for bad in (
        {**_setup(stub), "remove_api_key": True},
        {"enabled": True, "model": "stub-1"},
        {"enabled": True, "base_url": stub.base_url},
        _setup(stub, api_key="sk-a\nX-Injected: 1"),
        {**_setup(stub), "temperature": 2},
        _setup(stub, max_chars=10),
    ):
        refused = await client.put(URL, json=bad, headers=team.alice.headers)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")

    # Every change is audited, never with the key.
    audit = await client.get("/api/admin/audit", params={"action": "documents.assistant."}, headers=team.manager.headers)
    assert audit.status_code == 200
    assert len(audit.json()["items"]) == 4
    assert KEY not in audit.text

    # Another tenant sees its own (empty) settings, never these; leaving the group ends the access at once.
    theirs = await _json(await client.get(URL, headers=team.mallory.headers), 200)
    assert (theirs["base_url"], theirs["key_set"]) == ("", False)
    await client.delete(f"/api/admin/groups/{group_id}/members/{team.alice.user.id}", headers=owner.headers)
    assert (await client.get(URL, headers=team.alice.headers)).status_code == 403


async def test_refused_urls(client: httpx.AsyncClient, team: Team, stub: Stub, settings: Settings) -> None:
    """Link-local and metadata addresses are refused always; loopback and private ones unless the server allows them;
    only http(s), without credentials in the URL."""
    owner = team.mallory  # another tenant's owner holds every code, ai.manage included
    for url in (
        "http://169.254.169.254/latest",
        "http://[fe80::1]/v1",
        "http://[::ffff:169.254.169.254]/v1",
        "http://0.0.0.0/v1",
        stub.base_url,
        "http://10.1.2.3/v1",
        "http://localhost:11434/v1",
        "ftp://example.org/v1",
        "file:///etc/passwd",
        "https://user:pw@example.org/v1",
        "https://example.org/v1?x=1",
        "not a url",
    ):
        refused = await client.put(URL, json={"enabled": False, "base_url": url, "model": "m"}, headers=owner.headers)
        assert refused.status_code == 422, (url, refused.text)
    assert settings.ai_allow_private_urls is False
    assert (
        "NUBES_AI_ALLOW_PRIVATE_URLS"
        in (
            await client.put(URL, json={"enabled": False, "base_url": stub.base_url, "model": "m"}, headers=owner.headers)
        ).json()["detail"]
    )
    # A public name is taken (its addresses are checked when called).
    fine = await client.put(
        URL, json={"enabled": False, "base_url": "https://api.example.org/v1", "model": "m"}, headers=owner.headers
    )
    assert fine.status_code == 200, fine.text


async def test_a_name_that_resolves_to_a_private_address_is_refused_when_called(stub: Stub) -> None:
    """GIVEN a provider named by a host name WHEN that name resolves to a loopback address THEN Nubes does not call it
    (unless private addresses are allowed)."""
    named = providers.Provider(
        base_url=f"http://localhost:{stub.port}/v1", model="stub-1", key=KEY, timeout=5, allow_private=False
    )
    found = await providers.check(named)
    assert not found.ok
    assert "loopback or private" in found.detail
    assert stub.requests == []
    allowed = await providers.check(
        providers.Provider(base_url=f"http://localhost:{stub.port}/v1", model="stub-1", key=KEY, timeout=5, allow_private=True)
    )
    assert allowed.ok, allowed.detail
    assert stub.requests[0].headers["Host"] == f"localhost:{stub.port}"  # the name, though the checked address was dialled


async def test_connection_ok_wrong_key_timeout_and_refused(
    *,
    client: httpx.AsyncClient,
    team: Team,
    stub: Stub,
    local_providers: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = team.mallory
    nothing = await _json(await client.post(f"{URL}/test", headers=owner.headers), 200)
    assert nothing["ok"] is False
    await _json(await client.put(URL, json=_setup(stub), headers=owner.headers), 200)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        ok = await _json(await client.post(f"{URL}/test", headers=owner.headers), 200)
        assert (ok["ok"], ok["status"], ok["models"], ok["model_listed"]) == (True, 200, 2, True), ok
        seen = stub.requests[-1]
        assert (seen.method, seen.path, seen.headers["Authorization"]) == ("GET", "/v1/models", f"Bearer {KEY}")

        # A wrong key: the provider's 401 is reported, and what it echoed of the key is not.
        other = "sk-wrong-0123456789abcdef"
        await _json(await client.put(URL, json=_setup(stub, api_key=other), headers=owner.headers), 200)
        wrong = await _json(await client.post(f"{URL}/test", headers=owner.headers), 200)
        assert (wrong["ok"], wrong["status"]) == (False, 401)
        assert "refused the key" in wrong["detail"]
        assert other not in json.dumps(wrong)

        # A provider that does not answer in time.
        await _json(await client.put(URL, json=_setup(stub, model="stub-2"), headers=owner.headers), 200)
        monkeypatch.setattr(providers, "TEST_TIMEOUT", 0.5)
        stub.delay = 2.0
        slow = await _json(await client.post(f"{URL}/test", headers=owner.headers), 200)
        assert slow["ok"] is False
        assert "timeout" in slow["detail"]
        stub.delay = 0

        # Nothing listens there.
        await _json(await client.put(URL, json=_setup(stub, base_url="http://127.0.0.1:9/v1"), headers=owner.headers), 200)
        down = await _json(await client.post(f"{URL}/test", headers=owner.headers), 200)
        assert down["ok"] is False
        assert "Cannot connect" in down["detail"]

    # The server stopped allowing private addresses: the stored URL is refused, the stub is not called.
    await _json(await client.put(URL, json=_setup(stub), headers=owner.headers), 200)
    monkeypatch.setattr(local_providers, "ai_allow_private_urls", False)
    calls = len(stub.requests)
    refused = await _json(await client.post(f"{URL}/test", headers=owner.headers), 200)
    assert refused["ok"] is False
    assert "NUBES_AI_ALLOW_PRIVATE_URLS" in refused["detail"]
    assert len(stub.requests) == calls
    for key in (KEY, other):
        assert not any(key in json.dumps(entry, default=str) for entry in logs)
        assert key not in caplog.text


LETTER = (
    "ACME Corporation\nRechnung / Invoice 2026-118\nThe amount of 1,250.00 EUR is paid. Thank you for your business.\n"
    + "Terms and conditions apply. " * 40
)


async def _vocabulary(client: httpx.AsyncClient, team: Team) -> dict[str, str]:
    """Types, a correspondent and tags of the team's tenant (one tag with a rule that matches the letter)."""
    made: dict[str, str] = {}
    for path, body in (
        ("types", {"name": "Invoice"}),
        ("types", {"name": "Contract"}),
        ("correspondents", {"name": "Acme"}),
        ("tags", {"name": "paid", "matching": "any", "match": "paid"}),
        ("tags", {"name": "urgent"}),
        ("tags", {"name": "taxes"}),
    ):
        term = await _json(await client.post(f"/api/documents/{path}", json=body, headers=team.manager.headers), 201)
        made[term["name"]] = term["id"]
    return made


async def _make_due(session: AsyncSession, document_id: str) -> None:
    await session.execute(
        update(AssistantJob).where(AssistantJob.document_id == uuid.UUID(document_id)).values(next_attempt_at=utcnow())
    )


async def _job(session: AsyncSession, document_id: str) -> AssistantJob:
    job = await session.scalar(
        select(AssistantJob).where(AssistantJob.document_id == uuid.UUID(document_id)).execution_options(populate_existing=True)
    )
    assert job is not None
    return job


async def test_suggestions_from_the_answer_among_the_organizations_terms(
    *,
    client: httpx.AsyncClient,
    session: AsyncSession,
    team: Team,
    owner: SignedIn,
    stub: Stub,
    local_providers: Settings,
    extraction: ExtractionWorker,
    assistant: AssistantWorker,
) -> None:
    terms = await _vocabulary(client, team)
    theirs = await _json(await client.post("/api/documents/tags", json={"name": "theirs"}, headers=team.mallory.headers), 201)
    await _ai_admin(client, owner, team.bob)
    await _json(await client.put(URL, json=_setup(stub, max_chars=500), headers=team.bob.headers), 200)
    stub.answer = {
        "type": {"name": "invoice", "confidence": 0.92},
        "correspondent": {"name": "Globex", "confidence": 0.9},  # not one of the organization's: ignored
        "tags": ["Paid", {"name": "urgent", "confidence": 7}, {"name": "brand-new-tag"}, "taxes", "theirs", 42, None],
        "words": ["Rechnung", "Invoice", 3],
        "explanation": "An   invoice\nfrom Acme.",
        "extra": {"ignored": True},
    }

    document = await _json(await upload_document(client, team.alice, "letter.txt", LETTER.encode()), 201)
    tagged = await client.patch(
        f"/api/documents/{document['id']}", json={"tag_ids": [terms["taxes"]]}, headers=team.alice.headers
    )
    assert tagged.status_code == 200, tagged.text
    assert await extraction.run_due() == 1
    assert await assistant.run_due() == 1

    asked = [seen for seen in stub.requests if seen.path == "/v1/chat/completions"]
    assert len(asked) == 1
    assert asked[0].headers["Authorization"] == f"Bearer {KEY}"
    assert asked[0].body["model"] == "stub-1"
    assert asked[0].body["response_format"] == {"type": "json_object"}
    system, user = asked[0].body["messages"]
    assert system["role"] == "system"
    assert "never invent a name" in system["content"]
    sent = json.loads(user["content"])
    assert sent["title"] == document["title"]
    assert len(sent["text"]) == 500
    assert LETTER.startswith(sent["text"])
    assert (sent["document_types"], sent["correspondents"]) == (["Contract", "Invoice"], ["Acme"])
    assert "theirs" not in sent["tags"]  # another organization's terms are never sent

    url = f"/api/documents/{document['id']}/suggestions"
    proposed = {
        (item["source"], item["name"]): item for item in await _json(await client.get(url, headers=team.alice.headers), 200)
    }
    # "paid" was proposed by its rule already, "taxes" is applied, the rest are not the organization's terms.
    assert set(proposed) == {("rule", "paid"), ("llm", "Invoice"), ("llm", "urgent")}
    invoice, urgent = proposed[("llm", "Invoice")], proposed[("llm", "urgent")]
    assert (invoice["field"], invoice["term_id"], invoice["confidence"]) == ("type", terms["Invoice"], 0.92)
    assert (urgent["field"], urgent["confidence"]) == ("tag", 1.0)
    assert invoice["reason"] == {"model": "stub-1", "words": ["Rechnung", "Invoice"], "explanation": "An invoice from Acme."}
    tags = await _json(await client.get("/api/documents/tags", headers=team.alice.headers), 200)
    assert {tag["name"] for tag in tags} == {"paid", "urgent", "taxes"}  # nothing invented
    job = await _job(session, document["id"])
    assert (job.state, job.suggested, job.attempts, job.error) == ("done", 2, 1, None)

    # A person rejects one and accepts the other; reading the text again asks again, and proposes neither again.
    await _json(await client.post(f"{url}/{urgent['id']}/reject", headers=team.alice.headers), 200)
    accepted = await _json(await client.post(f"{url}/{invoice['id']}/accept", headers=team.alice.headers), 200)
    assert accepted["type"]["id"] == terms["Invoice"]
    await _json(await client.post(f"/api/documents/{document['id']}/reanalyse", headers=team.alice.headers), 202)
    assert await extraction.run_due() == 1
    assert await assistant.run_due() == 1
    assert len([seen for seen in stub.requests if seen.path == "/v1/chat/completions"]) == 2
    assert {(item["source"], item["name"]) for item in await _json(await client.get(url, headers=team.alice.headers), 200)} == {
        ("rule", "paid")
    }
    status = await _json(await client.get(URL, headers=team.bob.headers), 200)
    assert status["jobs"] == {"pending": 0, "done": 1, "failed": 0, "last_error": None}
    assert theirs["name"] == "theirs"


async def test_nothing_is_asked_while_the_assistant_is_off(
    *,
    client: httpx.AsyncClient,
    session: AsyncSession,
    team: Team,
    owner: SignedIn,
    stub: Stub,
    local_providers: Settings,
    extraction: ExtractionWorker,
    assistant: AssistantWorker,
) -> None:
    await _ai_admin(client, owner, team.bob)
    await _json(await client.put(URL, json=_setup(stub, enabled=False), headers=team.bob.headers), 200)
    document = await _json(await upload_document(client, team.alice, "letter.txt", LETTER.encode()), 201)
    other = await _json(await upload_document(client, team.mallory, "letter.txt", LETTER.encode()), 201)
    assert await extraction.run_due() == 2
    assert await assistant.run_due() == 0
    assert stub.requests == []
    for made in (document, other):
        assert await session.scalar(select(AssistantJob).where(AssistantJob.document_id == uuid.UUID(made["id"]))) is None


async def test_a_provider_down_is_retried_then_the_job_fails_and_the_document_is_never_blocked(
    *,
    client: httpx.AsyncClient,
    session: AsyncSession,
    team: Team,
    owner: SignedIn,
    stub: Stub,
    local_providers: Settings,
    extraction: ExtractionWorker,
    assistant: AssistantWorker,
) -> None:
    await _vocabulary(client, team)
    await _ai_admin(client, owner, team.bob)
    await _json(await client.put(URL, json=_setup(stub), headers=team.bob.headers), 200)
    stub.status = 503
    document = await _json(await upload_document(client, team.alice, "letter.txt", LETTER.encode()), 201)
    assert await extraction.run_due() == 1
    assert await assistant.run_due() == 1

    job = await _job(session, document["id"])
    assert (job.state, job.attempts) == ("pending", 1)
    assert "503" in (job.error or "")
    assert job.next_attempt_at > utcnow() + timedelta(seconds=20)  # backs off
    assert await assistant.run_due() == 0  # not due yet
    # The document is read and usable meanwhile.
    read = await _json(await client.get(f"/api/documents/{document['id']}", headers=team.alice.headers), 200)
    assert read["extraction"]["state"] == "done"
    text = await client.get(f"/api/documents/{document['id']}/text", headers=team.alice.headers)
    assert "Invoice 2026-118" in text.text

    for attempt in range(2, MAX_ATTEMPTS + 1):
        await _make_due(session, document["id"])
        assert await assistant.run_due() == 1
        job = await _job(session, document["id"])
        assert job.attempts == attempt
    assert job.state == "failed"
    assert "503" in (job.error or "")
    chats = [seen for seen in stub.requests if seen.path == "/v1/chat/completions"]
    assert len(chats) == MAX_ATTEMPTS
    await _make_due(session, document["id"])
    assert await assistant.run_due() == 0  # never again by itself
    status = await _json(await client.get(URL, headers=team.bob.headers), 200)
    assert status["jobs"]["failed"] == 1
    assert "503" in status["jobs"]["last_error"]

    # Nothing listening: a network failure is retried too; an answer that is not JSON is retried; a fenced one is read.
    await _json(await client.put(URL, json=_setup(stub, base_url="http://127.0.0.1:9/v1"), headers=team.bob.headers), 200)
    await _json(await client.post(f"/api/documents/{document['id']}/reanalyse", headers=team.alice.headers), 202)
    assert await extraction.run_due() == 1
    assert await assistant.run_due() == 1
    job = await _job(session, document["id"])
    assert (job.state, job.attempts) == ("pending", 1)
    assert "Cannot connect" in (job.error or "")

    await _json(await client.put(URL, json=_setup(stub), headers=team.bob.headers), 200)
    stub.status, stub.answer = 200, "Sure! Here is what I think."
    await _make_due(session, document["id"])
    assert await assistant.run_due() == 1
    job = await _job(session, document["id"])
    assert (job.state, job.attempts) == ("pending", 2)
    assert "not JSON" in (job.error or "")

    stub.answer = '```json\n{"type": "Contract", "tags": []}\n```'
    await _make_due(session, document["id"])
    assert await assistant.run_due() == 1
    job = await _job(session, document["id"])
    assert (job.state, job.suggested) == ("done", 1)

    # A refused key fails at once: trying again cannot fix it.
    await _json(await client.put(URL, json=_setup(stub, api_key="sk-wrong-key-123456"), headers=team.bob.headers), 200)
    await _json(await client.post(f"/api/documents/{document['id']}/reanalyse", headers=team.alice.headers), 202)
    assert await extraction.run_due() == 1
    assert await assistant.run_due() == 1
    job = await _job(session, document["id"])
    assert (job.state, job.attempts) == ("failed", 1)
    assert "refused the key (401)" in (job.error or "")
    assert "sk-wrong-key-123456" not in (job.error or "")
