"""The resolved caller, reused by the next requests that carry the same credential until its access changes.

Resolving a caller costs a signature check and a database round trip; most requests repeat the previous one's
credential. `PrincipalCache` keeps each resolved `Identity` under the hash of the credential (an access token or a
personal access token), with the *generations* it was resolved at: a global one, its user's and its tenant's. Any
change of access bumps them, so the next request resolves the caller again:

- `watch()` registers SQLAlchemy listeners that see every flush and every bulk statement touching the identity
  tables: a changed user, session or token bumps the user; a changed tenant, role or group bumps the tenant; a
  membership bumps its user; what cannot be traced to one user or tenant (a grant row, a bulk UPDATE) bumps the
  global generation. The bump happens at the flush (for this process) and again once the transaction commits.
- Generations live in this process by default (one server). With `NUBES_REDIS_URL` they live in Redis, bumped in
  one pipeline after the commit and before the answer of the request that made the change; a cache hit reads them
  (one MGET), so a request to any replica after that answer sees the change.

An entry also ends with its credential (the token's or session's expiry) and after `NUBES_PRINCIPAL_CACHE_TTL`
seconds, which bounds only what Nubes cannot see: rows changed by hand in the database. A miss reads the epoch (a
counter every bump advances) before and after loading, and keeps the result only when nothing changed in between.

Redis going away must not bring a revoked caller back when it returns. While it is away every request loads its
caller from the database; a bump that could not be sent is kept and sent first once Redis answers again (by the next
read, or within a second by the watch loop); every process forgets its entries as soon as it sees Redis away (the
watch loop pings it each second), so one whose bumps were lost with a process that died meanwhile still drops what
it had; and every entry carries Redis' *incarnation*, a random value set when the keys are empty, so a Redis that
came back without its data (counters at 0 again) matches no entry made before.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from nubes.core.db import Base, utcnow
from nubes.core.events import redis_client
from nubes.core.jobs import after_commit
from nubes.identity.groups.models import Group, GroupMember, GroupRole
from nubes.identity.mfa.models import Passkey, TotpSecret
from nubes.identity.roles.models import Role, RolePermission, UserRole
from nubes.identity.sessions.models import PersonalAccessToken
from nubes.identity.sessions.models import Session as SignInSession
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User

if TYPE_CHECKING:  # the service imports this module (Basic auth caches its callers here)
    from nubes.identity.sessions.service import Identity

log = structlog.get_logger("nubes.principal_cache")

GLOBAL = "g"
EPOCH = "e"
INCARNATION = "i"
"""A key no change bumps: random in Redis (set when missing), so entries made before Redis lost its data never match."""
WATCH_EVERY = 1.0
"""Seconds between the watch loop's checks of Redis (it resends lost bumps, and forgets entries while Redis is away)."""
SIZE = 10_000
"""Most credentials kept; the least recently used goes first."""

UNCHANGED_ACCESS = {"nubes_access_unchanged": True}
"""Execution options of a bulk statement on the identity tables that changes nobody's access (a last-use time)."""


def user_key(user_id: uuid.UUID) -> str:
    """The generation key of one user."""
    return f"u:{user_id}"


def tenant_key(tenant_id: uuid.UUID) -> str:
    """The generation key of one tenant."""
    return f"t:{tenant_id}"


class Generations(Protocol):
    """Counters bumped by changes of access: where they live decides who sees the bumps."""

    async def read(self, keys: Sequence[str]) -> tuple[int, ...]:
        """The epoch, then each key's generation (0 for a key never bumped)."""
        ...

    async def bump(self, keys: Collection[str]) -> None:
        """Advance each key and the epoch."""
        ...


class LocalGenerations:
    """Generations in this process: exact for one server process."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}

    async def read(self, keys: Sequence[str]) -> tuple[int, ...]:
        """The epoch, then each key's generation."""
        values = self._values
        return (values.get(EPOCH, 0), *(values.get(key, 0) for key in keys))

    def bump_now(self, keys: Iterable[str]) -> None:
        """Advance each key and the epoch (synchronous: called from SQLAlchemy's events)."""
        values = self._values
        for key in (*keys, EPOCH):
            values[key] = values.get(key, 0) + 1

    async def bump(self, keys: Collection[str]) -> None:
        """Advance each key and the epoch."""
        self.bump_now(keys)


class RedisGenerations:
    """Generations in Redis, shared by every replica."""

    PREFIX = "nubes:access:"

    def __init__(self, url: str) -> None:
        self._client: Redis = redis_client(url)
        self.missed: set[str] = set()
        """Keys whose bump could not be sent (Redis away): sent before anything else once it answers."""

    async def read(self, keys: Sequence[str]) -> tuple[int, ...]:
        """The epoch, then each key's generation, in one MGET (after resending missed bumps; raises while away)."""
        if self.missed:
            await self.resend()
        names = [self.PREFIX + EPOCH, *(self.PREFIX + key for key in keys)]
        values = await self._client.mget(names)
        if INCARNATION in keys and values[1 + keys.index(INCARNATION)] is None:  # new, or Redis lost its data
            await self._client.set(self.PREFIX + INCARNATION, secrets.randbits(62), nx=True)
            values = await self._client.mget(names)
        return tuple(int(value) if value is not None else 0 for value in values)

    async def bump(self, keys: Collection[str]) -> None:
        """Advance each key and the epoch in one round trip; kept in `missed` (and raised) when Redis is away."""
        try:
            await self._bump({*keys, *self.missed})
        except Exception:
            self.missed |= set(keys)
            raise
        self.missed.clear()

    async def resend(self) -> None:
        """Send the missed bumps (raises while Redis is away; they stay missed)."""
        missed = set(self.missed)
        await self._bump(missed)
        self.missed -= missed
        log.info("principal_cache.bumps_resent", keys=len(missed))

    async def ping(self) -> None:
        """Round-trip Redis (raises while it is away)."""
        await self._client.ping()

    async def _bump(self, keys: Collection[str]) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            for key in (*keys, EPOCH):
                pipe.incr(self.PREFIX + key)
            await pipe.execute()

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


local = LocalGenerations()
"""This process's generations: bumped by every change of access made here, whatever else is configured."""

_shared: set[RedisGenerations] = set()  # the Redis generations of the running servers of this process


@dataclass(slots=True)
class _Entry:
    identity: Identity
    keys: tuple[str, ...]
    generations: tuple[int, ...]
    until: float  # time.monotonic() deadline


class PrincipalCache:
    """Resolved callers by credential hash, bounded in size and time, dropped when their access changes."""

    def __init__(self, *, ttl: float, size: int = SIZE, generations: Generations | None = None) -> None:
        self.ttl = ttl
        self.size = size
        self.generations: Generations | None = generations
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether entries are kept (a lifetime, and generations every writer of this install bumps)."""
        return self.ttl > 0 and self.generations is not None

    @property
    def entries(self) -> int:
        """How many callers are kept."""
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    async def resolve(self, key: str, load: Callable[[], Awaitable[Identity]]) -> Identity:
        """The identity cached under `key` if its access is unchanged; otherwise `load()`'s, kept for the next ones."""
        generations = self.generations
        if generations is None or self.ttl <= 0:
            return await load()
        entry = self._entries.get(key)
        if entry is not None:
            # Reading the generations may await (Redis): other requests can replace or drop the entry meanwhile.
            valid = time.monotonic() < entry.until and await self._current(generations, entry.keys) == entry.generations
            if self._entries.get(key) is entry:
                if valid:
                    self._entries.move_to_end(key)
                else:
                    del self._entries[key]
            if valid:
                self.hits += 1
                return entry.identity
        self.misses += 1
        before = await self._read(generations, ())
        identity = await load()
        principal = identity.principal
        keys = (INCARNATION, GLOBAL, user_key(principal.user_id), tenant_key(principal.tenant_id))
        after = await self._read(generations, keys)
        if before is not None and after is not None and before[0] == after[0]:
            self._keep(key, _Entry(identity, keys, after[1:], self._deadline(identity)))
        return identity

    async def _current(self, generations: Generations, keys: tuple[str, ...]) -> tuple[int, ...] | None:
        values = await self._read(generations, keys)
        return values[1:] if values is not None else None

    async def _read(self, generations: Generations, keys: Sequence[str]) -> tuple[int, ...] | None:
        try:
            return await generations.read(keys)
        except Exception as exc:  # Redis away: resolve every request from the database until it is back
            log.warning("principal_cache.unavailable", error=type(exc).__name__)
            self.clear()  # bumps may be lost meanwhile: nothing cached before may be trusted once it is back
            return None

    def _deadline(self, identity: Identity) -> float:
        seconds = float(self.ttl)
        if identity.valid_until is not None:
            seconds = min(seconds, (identity.valid_until - utcnow()).total_seconds())
        return time.monotonic() + seconds

    def _keep(self, key: str, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


async def share_through_redis(cache: PrincipalCache, url: str, *, every: float = WATCH_EVERY) -> None:
    """Keep `cache`'s generations in Redis while this coroutine runs (the server's life); local again after.

    Meanwhile, each `every` seconds: resend missed bumps, or ping; while Redis is away, forget every entry.
    """
    shared = RedisGenerations(url)
    _shared.add(shared)
    cache.clear()
    cache.generations = shared
    try:
        while True:
            await asyncio.sleep(every)
            try:
                await (shared.resend() if shared.missed else shared.ping())
            except Exception as exc:
                if cache.entries:
                    log.warning("principal_cache.unavailable", error=type(exc).__name__)
                cache.clear()
    finally:
        cache.generations = None
        cache.clear()
        _shared.discard(shared)
        await shared.close()


# --- what changes access: SQLAlchemy listeners -------------------------------------------------------------------


def _own_user(row: Any, created: bool) -> set[str]:
    return {user_key(row.id)}


def _credential(row: Any, created: bool) -> set[str]:
    return set() if created else {user_key(row.user_id)}  # a new credential changes nobody's cached one


def _member(row: Any, created: bool) -> set[str]:
    return {user_key(row.user_id)}


def _own_tenant(row: Any, created: bool) -> set[str]:
    return {tenant_key(row.id)}


def _in_tenant(row: Any, created: bool) -> set[str]:
    return {tenant_key(row.tenant_id)}


def _anyone(row: Any, created: bool) -> set[str]:
    return {GLOBAL}  # a grant row names a role, not its tenant


# The generations a new, changed or deleted row of each identity table bumps.
_KEYS_OF: dict[type[Base], Callable[[Any, bool], set[str]]] = {
    User: _own_user,
    SignInSession: _credential,
    PersonalAccessToken: _credential,
    # A second factor ends Basic auth with the account password (identity_from_basic), even a new one.
    TotpSecret: _member,
    Passkey: _member,
    UserRole: _member,
    GroupMember: _member,
    Tenant: _own_tenant,
    Role: _in_tenant,
    Group: _in_tenant,
    RolePermission: _anyone,
    GroupRole: _anyone,
}
_WATCHED_TABLES = frozenset(model.__tablename__ for model in _KEYS_OF)


def _keys_of(instance: Base, *, created: bool) -> set[str]:
    keys_of = _KEYS_OF.get(type(instance))
    return keys_of(instance, created) if keys_of is not None else set()


def _bump(session: Session, keys: set[str]) -> None:
    """Bump `keys` now in this process, and again everywhere once the transaction commits."""
    local.bump_now(keys)
    after_commit(session, partial(_committed, frozenset(keys)), before_answer=bool(_shared))


def _committed(keys: frozenset[str]) -> Awaitable[Any] | None:
    local.bump_now(keys)
    if not _shared:
        return None
    return asyncio.gather(*(shared.bump(keys) for shared in _shared))


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    keys: set[str] = set()
    for instance in session.new:
        keys |= _keys_of(instance, created=True)
    for instance in session.dirty:
        if session.is_modified(instance, include_collections=False):
            keys |= _keys_of(instance, created=False)
    for instance in session.deleted:
        keys |= _keys_of(instance, created=False)
    if keys:
        _bump(session, keys)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES and not state.execution_options.get("nubes_access_unchanged"):
        _bump(state.session, {GLOBAL})


def watch() -> None:
    """Register the listeners that bump generations on every change of access (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
