"""The principal cache: a caller is resolved once per credential and reused, and every change of access drops it.

Each event test first proves the caller is served from the cache (a second request is a hit that runs no SQL for
the caller), then changes access through the API, then expects the very next request to see it. The cache's own
rules (its lifetime, the credential's expiry, its size, a change during a load, Redis away) are tested on the class.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI
from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.principal import Principal
from nubes.identity.sessions import cache
from nubes.identity.sessions.models import Session
from nubes.identity.sessions.service import Identity
from tests.factories import PASSWORD, SignedIn, login, make_tenant, make_user
from tests.serving import redis_process

AUDIT = "/api/admin/audit"  # needs admin.audit


def principal_cache(app: FastAPI) -> cache.PrincipalCache:
    found: cache.PrincipalCache = app.state.principal_cache
    return found


async def served_from_cache(app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], url: str = "/api/users/me") -> None:
    """The caller behind `headers` is resolved, then reused: the second request is a cache hit."""
    assert (await client.get(url, headers=headers)).status_code == 200
    hits = principal_cache(app).hits
    assert (await client.get(url, headers=headers)).status_code == 200
    assert principal_cache(app).hits == hits + 1


async def owner_and_member(session: AsyncSession, settings: Settings, client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn]:
    tenant = await make_tenant(session)
    owner = await login(client, await make_user(session, settings, tenant, roles=("owner",)))
    member = await login(client, await make_user(session, settings, tenant, roles=("member",)))
    return owner, member


async def test_sign_out_revoke_and_refresh_reuse_end_a_cached_caller(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    _, member = await owner_and_member(session, settings, client)
    laptop, phone, tablet = member, await login(client, member.user), await login(client, member.user)
    for who in (laptop, phone, tablet):
        await served_from_cache(app, client, who.headers)

    assert (await client.post("/api/auth/logout", json={"refresh_token": tablet.refresh_token})).status_code == 204
    assert (await client.get("/api/users/me", headers=tablet.headers)).status_code == 401  # signed out

    await served_from_cache(app, client, phone.headers)
    phone_id = jwt.decode(phone.access_token, options={"verify_signature": False})["sid"]
    assert (await client.delete(f"/api/users/me/sessions/{phone_id}", headers=laptop.headers)).status_code == 204
    assert (await client.get("/api/users/me", headers=phone.headers)).status_code == 401  # revoked by the user

    rotated = await client.post("/api/auth/refresh", json={"refresh_token": laptop.refresh_token})
    assert rotated.status_code == 200
    newest = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    await served_from_cache(app, client, newest)
    assert (await client.post("/api/auth/refresh", json={"refresh_token": laptop.refresh_token})).status_code == 401
    assert (await client.get("/api/users/me", headers=newest)).status_code == 401  # the family ended on reuse


async def test_deactivation_suspension_and_password_changes_end_a_cached_caller(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    owner, member = await owner_and_member(session, settings, client)
    await served_from_cache(app, client, member.headers)
    deactivated = await client.patch(f"/api/admin/users/{member.user.id}", json={"is_active": False}, headers=owner.headers)
    assert deactivated.status_code == 200, deactivated.text
    assert (await client.get("/api/users/me", headers=member.headers)).status_code == 401

    platform = await login(client, await make_user(session, settings, await make_tenant(session), superadmin=True))
    await served_from_cache(app, client, owner.headers)
    suspended = await client.patch(
        f"/api/admin/tenants/{owner.user.tenant_id}", json={"status": "suspended"}, headers=platform.headers
    )
    assert suspended.status_code == 200, suspended.text
    assert (await client.get("/api/users/me", headers=owner.headers)).status_code == 401

    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant)
    here, elsewhere = await login(client, user), await login(client, user)
    await served_from_cache(app, client, elsewhere.headers)
    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": "Quiet-Harbor-Lantern-77"},
        headers=here.headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/api/users/me", headers=elsewhere.headers)).status_code == 401


async def test_role_group_and_grant_changes_reach_a_cached_caller(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    owner, member = await owner_and_member(session, settings, client)
    role = await client.post("/api/admin/roles", json={"name": "auditors", "permissions": ["admin.audit"]}, headers=owner.headers)
    assert role.status_code == 201, role.text
    group = await client.post("/api/admin/groups", json={"name": "audit-team", "roles": []}, headers=owner.headers)
    assert group.status_code == 201, group.text
    group_url = f"/api/admin/groups/{group.json()['id']}"

    await served_from_cache(app, client, member.headers)
    given = await client.patch(
        f"/api/admin/users/{member.user.id}", json={"roles": ["member", "auditors"]}, headers=owner.headers
    )
    assert given.status_code == 200, given.text
    await served_from_cache(app, client, member.headers, AUDIT)  # a role given
    taken = await client.patch(f"/api/admin/roles/{role.json()['id']}", json={"permissions": []}, headers=owner.headers)
    assert taken.status_code == 200, taken.text
    assert (await client.get(AUDIT, headers=member.headers)).status_code == 403  # the role's grant taken

    assert (await client.patch(group_url, json={"roles": ["auditors"]}, headers=owner.headers)).status_code == 200
    assert (
        await client.patch(f"/api/admin/roles/{role.json()['id']}", json={"permissions": ["admin.audit"]}, headers=owner.headers)
    ).status_code == 200
    removed = await client.patch(f"/api/admin/users/{member.user.id}", json={"roles": ["member"]}, headers=owner.headers)
    assert removed.status_code == 200, removed.text
    assert (await client.get(AUDIT, headers=member.headers)).status_code == 403  # the role taken
    assert (await client.put(f"{group_url}/members/{member.user.id}", headers=owner.headers)).status_code in (200, 204)
    await served_from_cache(app, client, member.headers, AUDIT)  # joined a group that holds the role
    assert (await client.delete(f"{group_url}/members/{member.user.id}", headers=owner.headers)).status_code == 204
    assert (await client.get(AUDIT, headers=member.headers)).status_code == 403  # left the group


async def test_a_revoked_token_and_a_fresh_reauthentication_reach_the_cache(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    _, member = await owner_and_member(session, settings, client)
    made = await client.post("/api/users/me/tokens", json={"name": "script", "scopes": ["files.read"]}, headers=member.headers)
    assert made.status_code == 201, made.text
    token = {"Authorization": f"Bearer {made.json()['token']}"}
    await served_from_cache(app, client, token)
    assert (await client.delete(f"/api/users/me/tokens/{made.json()['id']}", headers=member.headers)).status_code == 204
    assert (await client.get("/api/users/me", headers=token)).status_code == 401

    # Sudo: a cached session's proof of identity ages by hand, then a fresh proof must be seen at once.
    await served_from_cache(app, client, member.headers)
    stale = utcnow() - timedelta(seconds=settings.sudo_ttl + 5)
    await session.execute(update(Session).where(Session.user_id == member.user.id).values(reauthenticated_at=stale))
    await session.flush()
    body = {"name": "another", "scopes": ["files.read"]}
    refused = await client.post("/api/users/me/tokens", json=body, headers=member.headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:nubes:problem:reauthentication-required"
    confirmed = await client.post("/api/auth/sudo", json={"password": PASSWORD}, headers=member.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.post("/api/users/me/tokens", json=body, headers=member.headers)).status_code == 201


# --- the cache's own rules --------------------------------------------------------------------------------------


def an_identity(*, valid_for: timedelta | None = None) -> Identity:
    principal = Principal(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), username="someone", permissions=frozenset())
    return Identity(
        principal=principal,
        user={},
        tenant={},
        roles=[],
        valid_until=utcnow() + valid_for if valid_for is not None else None,
    )


class Loads:
    """A loader that counts its calls and can change access while it runs."""

    def __init__(self, identity: Identity, generations: cache.LocalGenerations, *, bump_while_loading: bool = False) -> None:
        self.identity, self.generations, self.bump_while_loading, self.calls = identity, generations, bump_while_loading, 0

    async def __call__(self) -> Identity:
        self.calls += 1
        if self.bump_while_loading:
            self.generations.bump_now([cache.user_key(self.identity.principal.user_id)])
        return self.identity


async def test_a_change_bumps_only_its_user_or_tenant_and_the_global_generation_drops_all() -> None:
    generations = cache.LocalGenerations()
    principal_cache = cache.PrincipalCache(ttl=30, generations=generations)
    first, second = Loads(an_identity(), generations), Loads(an_identity(), generations)
    for _ in range(2):
        await principal_cache.resolve("first", first)
        await principal_cache.resolve("second", second)
    assert (first.calls, second.calls) == (1, 1)

    generations.bump_now([cache.user_key(first.identity.principal.user_id)])
    await principal_cache.resolve("first", first)
    await principal_cache.resolve("second", second)
    assert (first.calls, second.calls) == (2, 1)

    generations.bump_now([cache.tenant_key(second.identity.principal.tenant_id)])
    await principal_cache.resolve("first", first)
    await principal_cache.resolve("second", second)
    assert (first.calls, second.calls) == (2, 2)

    generations.bump_now([cache.GLOBAL])
    await principal_cache.resolve("first", first)
    await principal_cache.resolve("second", second)
    assert (first.calls, second.calls) == (3, 3)


async def test_an_identity_is_not_kept_when_access_changed_while_it_loaded() -> None:
    generations = cache.LocalGenerations()
    principal_cache = cache.PrincipalCache(ttl=30, generations=generations)
    racing = Loads(an_identity(), generations, bump_while_loading=True)
    await principal_cache.resolve("key", racing)
    racing.bump_while_loading = False
    await principal_cache.resolve("key", racing)
    await principal_cache.resolve("key", racing)
    assert racing.calls == 2  # the first load was not kept; the second was


async def test_entries_end_with_the_credential_the_lifetime_and_the_size_bound() -> None:
    generations = cache.LocalGenerations()
    expired = Loads(an_identity(valid_for=timedelta(seconds=-1)), generations)
    principal_cache = cache.PrincipalCache(ttl=30, generations=generations)
    await principal_cache.resolve("expired", expired)
    await principal_cache.resolve("expired", expired)
    assert expired.calls == 2  # a credential already past its expiry is never served from the cache

    no_lifetime = cache.PrincipalCache(ttl=0, generations=generations)
    loads = Loads(an_identity(), generations)
    await no_lifetime.resolve("key", loads)
    await no_lifetime.resolve("key", loads)
    assert loads.calls == 2
    assert not no_lifetime.enabled

    small = cache.PrincipalCache(ttl=30, size=2, generations=generations)
    loaders = [Loads(an_identity(), generations) for _ in range(3)]
    for number, loader in enumerate(loaders):
        await small.resolve(str(number), loader)
    await small.resolve("0", loaders[0])  # the oldest was pushed out by the third
    await small.resolve("2", loaders[2])
    assert [loader.calls for loader in loaders] == [2, 1, 1]


async def test_without_shared_generations_nothing_is_kept_and_a_failing_store_falls_back_to_loading() -> None:
    waiting_for_redis = cache.PrincipalCache(ttl=30, generations=None)
    loads = Loads(an_identity(), cache.LocalGenerations())
    await waiting_for_redis.resolve("key", loads)
    await waiting_for_redis.resolve("key", loads)
    assert loads.calls == 2
    assert not waiting_for_redis.enabled

    class Away:
        async def read(self, keys: object) -> tuple[int, ...]:
            raise ConnectionError("redis is down")

        async def bump(self, keys: object) -> None:
            raise ConnectionError("redis is down")

    unreachable = cache.PrincipalCache(ttl=30, generations=Away())
    await unreachable.resolve("key", loads)
    await unreachable.resolve("key", loads)
    assert loads.calls == 4  # every request loads from the database while the store is away


@pytest.mark.usefixtures("client")
async def test_a_flushed_change_bumps_its_user_at_once_and_a_bulk_statement_bumps_everyone(
    session: AsyncSession, settings: Settings
) -> None:
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant)
    key = cache.user_key(user.id)
    before = (await cache.local.read([key]))[1]
    user.display_name = "Renamed"
    await session.flush()
    assert (await cache.local.read([key]))[1] == before + 1  # at the flush, for this process

    global_before = (await cache.local.read([cache.GLOBAL]))[1]
    await session.execute(update(Session).where(Session.user_id == user.id).values(revoke_reason="test"))
    assert (await cache.local.read([cache.GLOBAL]))[1] == global_before + 1


async def test_concurrent_requests_with_one_credential_while_the_store_answers_slowly() -> None:
    """GIVEN a store that yields on every read (Redis) WHEN many requests resolve one credential at once, across a
    change of access THEN none fails and each gets the identity."""

    class Slow(cache.LocalGenerations):
        async def read(self, keys: Sequence[str]) -> tuple[int, ...]:
            await asyncio.sleep(0)
            return await super().read(keys)

    generations = Slow()
    principal_cache = cache.PrincipalCache(ttl=30, generations=generations)
    loads = Loads(an_identity(), generations)
    await principal_cache.resolve("key", loads)

    async def request(number: int) -> Identity:
        if number % 5 == 0:
            generations.bump_now([cache.user_key(loads.identity.principal.user_id)])
        return await principal_cache.resolve("key", loads)

    answers = await asyncio.gather(*(request(number) for number in range(50)))
    assert all(answer is loads.identity for answer in answers)


# --- Redis going away and coming back (a real redis-server) -------------------------------------------------------


async def eventually(condition: Callable[[], bool], within: float = 10) -> None:
    """Wait until `condition()` holds; fail after `within` seconds."""
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"still not true after {within} s")


async def _kept(principal_cache: cache.PrincipalCache, loads: Loads) -> None:
    """Resolve twice: the second time from the cache."""
    await principal_cache.resolve("key", loads)
    calls = loads.calls
    await principal_cache.resolve("key", loads)
    assert loads.calls == calls


async def test_a_redis_that_came_back_without_its_data_matches_no_entry_made_before(tmp_path: Path) -> None:
    """Never-bumped counters read 0 before and after Redis lost its data: the incarnation tells the two apart."""
    with redis_process(tmp_path) as redis:
        generations = cache.RedisGenerations(redis.url)
        principal_cache = cache.PrincipalCache(ttl=30, generations=generations)
        loads = Loads(an_identity(), cache.LocalGenerations())
        try:
            await _kept(principal_cache, loads)
            redis.stop()
            redis.start()  # not persistent: back empty, every counter at 0 again
            with contextlib.suppress(RedisError):  # the first use after the restart finds the old connection closed
                await generations.read(())
            assert await generations.read(()) == (0,)
            await principal_cache.resolve("key", loads)
            assert loads.calls == 2
        finally:
            await generations.close()


async def test_a_bump_lost_while_redis_was_away_is_resent_when_it_is_back(tmp_path: Path) -> None:
    """Replica A signs someone out while Redis is away (its bump fails); replica B, which saw nothing of the outage,
    drops its entry for them once Redis is back, because A resends the bump first."""
    with redis_process(tmp_path, persistent=True) as redis:
        a, b = cache.RedisGenerations(redis.url), cache.RedisGenerations(redis.url)
        on_b = cache.PrincipalCache(ttl=30, generations=b)
        identity = an_identity()
        loads = Loads(identity, cache.LocalGenerations())
        try:
            await _kept(on_b, loads)
            redis.stop()
            with pytest.raises(RedisError):
                await a.bump({cache.user_key(identity.principal.user_id)})
            assert a.missed == {cache.user_key(identity.principal.user_id)}
            redis.start()  # persistent: the counters are as before the outage
            await a.read(())  # A's next use of Redis sends the missed bump first
            assert a.missed == set()
            await on_b.resolve("key", loads)
            assert loads.calls == 2
        finally:
            await a.close()
            await b.close()


async def test_the_watch_loop_forgets_entries_while_redis_is_away_and_resends_missed_bumps(tmp_path: Path) -> None:
    with redis_process(tmp_path, persistent=True) as redis:
        principal_cache = cache.PrincipalCache(ttl=30, generations=None)
        watching = asyncio.create_task(cache.share_through_redis(principal_cache, redis.url, every=0.05))
        try:
            await eventually(lambda: principal_cache.generations is not None)
            shared = principal_cache.generations
            assert isinstance(shared, cache.RedisGenerations)
            await _kept(principal_cache, Loads(an_identity(), cache.LocalGenerations()))
            assert principal_cache.entries == 1
            redis.stop()
            await eventually(lambda: principal_cache.entries == 0)
            with pytest.raises(RedisError):
                await shared.bump({cache.GLOBAL})
            redis.start()
            await eventually(lambda: not shared.missed)  # resent by the loop, without any request
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
