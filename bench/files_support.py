"""What the files benchmarks share: a Nubes with a signed-in admin, plain HTTP calls, and fast seeding of the tree.

Seeding goes straight into the database of the running server (SQLite or PostgreSQL; one bulk insert through
Nubes' own models and name rules), since creating 100,000 entries through the API would take longer than
everything measured. The rows are what the service layer writes: a node, and its search terms.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import HOST, BenchError, Server, database_url, nubes_server, wait_ready

ADMIN = "admin"
PASSWORD = "Bench-Granite-Falcon-73"  # noqa: S105 - a throwaway server's first admin
SERVER_ENV = {
    "NUBES_ADMIN_PASSWORD": PASSWORD,
    "NUBES_LOGIN_RATE_LIMIT": "100000/minute",
    "NUBES_ACCESS_TOKEN_TTL": "3600",
}


def call(
    server: Server,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """One request over loopback: status and body."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def call_json(server: Server, method: str, path: str, *, expect: int = 200, **kwargs: Any) -> Any:
    """A request whose answer must be `expect` with a JSON body; the parsed body."""
    status, body = call(server, method, path, **kwargs)
    if status != expect:
        raise BenchError(f"{method} {path} answered {status}, expected {expect}: {body[:300]!r}")
    return json.loads(body)


def login(server: Server) -> str:
    """The first admin's bearer token."""
    answer = call_json(
        server,
        "POST",
        "/api/auth/login",
        body=json.dumps({"username": ADMIN, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    token: str = answer["access_token"]
    return token


@contextlib.contextmanager
def signed_in_nubes(workdir: Path, **extra_env: str) -> Iterator[tuple[Server, str]]:
    """A ready `nubes serve` (fresh data dir and database) and its admin's token."""
    with nubes_server(workdir, **SERVER_ENV, **extra_env) as server:
        wait_ready(server, "/api/ready")
        yield server, login(server)


def root_id(server: Server, token: str) -> str:
    """The admin's root folder id."""
    folder_id: str = call_json(server, "GET", "/api/files", token=token)["folder"]["id"]
    return folder_id


def create_folder(server: Server, token: str, parent_id: str, name: str) -> str:
    """A new folder through the API; its id."""
    body = json.dumps({"name": name, "parent_id": parent_id}).encode()
    answer = call_json(
        server, "POST", "/api/files/folders", expect=201, token=token, body=body, headers={"Content-Type": "application/json"}
    )
    folder_id: str = answer["id"]
    return folder_id


def seed_files(workdir: Path, parent_id: str, names: Iterable[str]) -> list[str]:
    """Insert a 1-byte file row per name into `parent_id` (and its search terms), in one transaction; their ids."""
    return asyncio.run(_seed_files(workdir, parent_id, names))


async def _seed_files(workdir: Path, parent_id: str, names: Iterable[str]) -> list[str]:
    from nubes.core.db import utcnow  # noqa: PLC0415 - loaded only when a benchmark seeds (see below)
    from nubes.files.tree import names as name_rules  # noqa: PLC0415 - the app's modules load only for the benchmarks that seed
    from nubes.files.tree.models import FileNameTerm, FileNode  # noqa: PLC0415

    url = database_url(workdir)
    engine = create_async_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    try:
        async with engine.begin() as connection:
            parent = uuid.UUID(parent_id)
            row = (await connection.execute(select(FileNode.tenant_id, FileNode.owner_id).where(FileNode.id == parent))).one()
            tenant_id, owner_id = row.tenant_id, row.owner_id
            now = utcnow()
            nodes: list[dict[str, Any]] = []
            terms: list[dict[str, Any]] = []
            for raw in names:
                name = name_rules.normalize(raw)
                node_id = uuid.uuid4()
                nodes.append(
                    {
                        "id": node_id,
                        "tenant_id": tenant_id,
                        "owner_id": owner_id,
                        "parent_id": parent,
                        "kind": "file",
                        "name": name,
                        "name_key": name_rules.clash_key(name),
                        "size": 1,
                        "content_type": "text/plain",
                        "blob_key": None,
                        "sha256": "0" * 64,
                        "version_no": 1,
                        "created_at": now,
                        "updated_at": now,
                        "created_by": owner_id,
                        "trashed_at": None,
                        "in_trash": False,
                    }
                )
                terms += [
                    {
                        "node_id": node_id,
                        "term": term,
                        "tenant_id": tenant_id,
                        "owner_id": owner_id,
                        "name_key": nodes[-1]["name_key"],
                    }
                    for term in name_rules.terms(name)
                ]
            await connection.execute(insert(FileNode), nodes)
            await connection.execute(insert(FileNameTerm), terms)
        if not url.startswith("sqlite"):
            # What autovacuum does within a minute of a bulk load on a live install: without statistics PostgreSQL
            # plans the name search as a nested loop over every node of the owner (~600 ms instead of ~2 ms).
            async with engine.connect() as connection:
                await connection.execute(text("ANALYZE file_nodes, file_name_terms"))
    finally:
        await engine.dispose()
    return [str(node["id"]) for node in nodes]
