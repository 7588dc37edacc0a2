"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from nubes.config import Settings

MIN_LENGTH = 12
MIN_STRENGTH = 2  # zxcvbn's 0-4 scale: 2 resists online guessing with throttling


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher(settings: Settings) -> PasswordHasher:
    """The argon2id hasher with the configured cost."""
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


async def hash_password(settings: Settings, password: str) -> str:
    """An argon2id hash, computed off the event loop (it takes tens of milliseconds on purpose)."""
    return await asyncio.to_thread(hasher(settings).hash, password)


async def verify_password(settings: Settings, password_hash: str, password: str) -> bool:
    """Whether `password` matches; never raises for a wrong or malformed hash."""

    def check() -> bool:
        try:
            return hasher(settings).verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than today's (rehash at next login)."""
    try:
        return hasher(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# A hash of a random password, verified against when the user does not exist, so an unknown
# username costs as much time as a wrong password (no user enumeration by timing).
_DUMMY_PASSWORD = "nubes-timing-equalizer-not-a-password"  # noqa: S105 - never a credential


async def burn_verification(settings: Settings) -> None:
    """Spend the time one verification takes."""
    dummy = await _dummy_hash(settings)
    await verify_password(settings, dummy, _DUMMY_PASSWORD + "x")


_dummy_hashes: dict[tuple[int, int, int], str] = {}


async def _dummy_hash(settings: Settings) -> str:
    key = (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = await hash_password(settings, _DUMMY_PASSWORD)
    return _dummy_hashes[key]


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def policy_problems(password: str, *, username: str = "", email: str = "") -> list[str]:
    """Why `password` is refused, in words a user can act on; empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters (this one has {len(password)}).")
    if password.lower() in _common_passwords():
        problems.append("This password is on the list of the most common passwords; choose another.")
    names = [name.lower() for name in (username, email.split("@", maxsplit=1)[0] if email else "") if len(name) >= 3]
    if any(name in password.lower() for name in names):
        problems.append("The password must not contain your username or email name.")
    if not problems:
        verdict = zxcvbn(password[:72], user_inputs=[value for value in (username, email) if value])
        if verdict["score"] < MIN_STRENGTH:
            hint = verdict["feedback"]["warning"] or "It is easy to guess."
            tips = " ".join(verdict["feedback"]["suggestions"])
            problems.append(f"{hint} {tips}".strip())
    return problems
