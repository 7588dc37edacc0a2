"""Fixtures of the documents tests: a tenant with a manager and members, another tenant, and the extraction worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.documents.extraction.tasks import ExtractionWorker
from tests.factories import SignedIn, login, make_tenant, make_user


@dataclass
class Team:
    manager: SignedIn  # the tenant's admin role: documents.manage
    alice: SignedIn
    bob: SignedIn
    mallory: SignedIn  # another tenant's owner


@pytest.fixture
async def team(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> Team:
    tenant = await make_tenant(session)
    manager = await login(client, await make_user(session, settings, tenant, roles=("admin",)))
    alice = await login(client, await make_user(session, settings, tenant))
    bob = await login(client, await make_user(session, settings, tenant))
    other = await make_tenant(session)
    mallory = await login(client, await make_user(session, settings, other, roles=("owner",)))
    return Team(manager=manager, alice=alice, bob=bob, mallory=mallory)


@pytest.fixture
def extraction(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> ExtractionWorker:
    """The worker the app runs, bound to the test's transaction (the app starts none when it does not own the database)."""
    return ExtractionWorker(sessions, lambda: app.state.storage, lease=timedelta(minutes=5), languages="eng")


async def upload_document(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes, **params: Any) -> httpx.Response:
    return await client.post("/api/documents/upload", files={"file": (name, data)}, params=params, headers=who.headers)
