"""Sign-up, mailed links (through a real SMTP server on loopback), TOTP, recovery codes and passkeys."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.mail import MailSender, OutboxMail
from nubes.identity.users.models import AccountToken, User
from tests.conftest import make_settings
from tests.factories import PASSWORD, login, make_tenant, make_user
from tests.identity.softauthn import UP, SoftAuthenticator

pytestmark = pytest.mark.usefixtures("client")

NEW_PASSWORD = "Violet-Harbour-Lantern-42"


class Inbox:
    """Collects what the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def link(self, to: str, path: str) -> str:
        """The one-time token of the last message to `to` with a link to `path`."""
        for message in reversed(self.messages):
            if message["To"] == to:
                body = message.get_payload(decode=True)
                assert isinstance(body, bytes)
                found = re.search(re.escape(path) + r"#token=([\w-]+)", body.decode())
                if found:
                    return found.group(1)
        raise AssertionError(f"no mail to {to} with a {path} link")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a loopback port."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mailer(smtp: tuple[Inbox, int], settings: Settings, sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> MailSender:
    """The outbox sender, pointed at the loopback SMTP server, inside the test's transaction."""
    mail_settings = make_settings(tmp_path, smtp_url=f"smtp+plain://127.0.0.1:{smtp[1]}", public_url="https://cloud.example.org")
    return MailSender(mail_settings, sessions)


async def _open_registration(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, **policy: Any) -> None:
    tenant = await make_tenant(session)
    admin = await login(client, await make_user(session, settings, tenant, roles=("owner",), superadmin=True))
    response = await client.put(
        "/api/admin/settings/registration", json={"enabled": True, "tenant_slug": tenant.slug, **policy}, headers=admin.headers
    )
    assert response.status_code == 200, response.text


async def test_registration_is_closed_until_an_admin_opens_it(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    body = {"username": "newcomer", "email": "newcomer@example.org", "password": NEW_PASSWORD}
    assert (await client.get("/api/auth/options")).json()["registration_enabled"] is False
    closed = await client.post("/api/auth/register", json=body)
    assert closed.status_code == 403
    assert "ask an admin" in closed.json()["detail"]
    assert await session.scalar(select(User).where(User.username == "newcomer")) is None

    member = await login(client, await make_user(session, settings, await make_tenant(session), roles=("owner",)))
    denied = await client.put("/api/admin/settings/registration", json={"enabled": True}, headers=member.headers)
    assert denied.status_code == 403  # a tenant owner is not a platform admin

    await _open_registration(client, session, settings, require_email_verification=False)
    options = (await client.get("/api/auth/options")).json()
    assert options["registration_enabled"] is True
    assert options["email_verification_required"] is False
    created = await client.post("/api/auth/register", json=body)
    assert created.status_code == 201, created.text
    assert (await client.post("/api/auth/login", json={"username": "newcomer", "password": NEW_PASSWORD})).status_code == 200


async def test_registration_refuses_weak_passwords_and_bad_policies(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    await _open_registration(client, session, settings)
    weak = await client.post(
        "/api/auth/register", json={"username": "weakling", "email": "w@example.org", "password": "password1234"}
    )
    assert weak.status_code == 422
    assert any(error["loc"] == ["body", "password"] for error in weak.json()["errors"])
    named = await client.post(
        "/api/auth/register", json={"username": "kettleman", "email": "k@example.org", "password": "kettleman-Orbit-81x"}
    )
    assert named.status_code == 422
    assert await session.scalar(select(User).where(User.username.in_(["weakling", "kettleman"]))) is None

    tenant = await make_tenant(session)
    admin = await login(client, await make_user(session, settings, tenant, superadmin=True))
    for policy, reason in [
        ({"tenant_slug": "no-such-tenant"}, "no tenant"),
        ({"tenant_slug": tenant.slug, "role": "wizard"}, "no role"),
    ]:
        response = await client.put("/api/admin/settings/registration", json={"enabled": True, **policy}, headers=admin.headers)
        assert response.status_code == 422
        assert reason in response.json()["detail"]


async def test_new_accounts_confirm_their_address_by_mail_before_signing_in(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, smtp: tuple[Inbox, int], mailer: MailSender
) -> None:
    inbox, _ = smtp
    await _open_registration(client, session, settings)
    body = {"username": "mailer", "email": "Mailer@Example.org", "password": NEW_PASSWORD, "display_name": "Mae"}
    assert (await client.post("/api/auth/register", json=body)).status_code == 201

    refused = await client.post("/api/auth/login", json={"username": "mailer", "password": NEW_PASSWORD})
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:nubes:problem:email-unverified"

    assert await mailer.send_due() == 1
    message = inbox.messages[-1]
    assert message["To"] == "mailer@example.org"
    assert "Confirm your email" in message["Subject"]
    token = inbox.link("mailer@example.org", f"{settings.base_url}/verify-email")

    # The outbox keeps no link once it is sent.
    sent = await session.scalar(select(OutboxMail).where(OutboxMail.to_address == "mailer@example.org"))
    assert sent is not None
    await session.refresh(sent)
    assert sent.sent_at is not None
    assert sent.body == ""

    assert (await client.post("/api/auth/verify-email", json={"token": token + "x"})).status_code == 422
    assert (await client.post("/api/auth/verify-email", json={"token": token})).status_code == 204
    assert (await client.post("/api/auth/verify-email", json={"token": token})).status_code == 422  # single use
    assert (await client.post("/api/auth/login", json={"username": "mailer", "password": NEW_PASSWORD})).status_code == 200


async def test_verification_request_answers_the_same_for_unknown_addresses(
    client: httpx.AsyncClient, session: AsyncSession, smtp: tuple[Inbox, int], mailer: MailSender
) -> None:
    inbox, _ = smtp
    unknown = await client.post("/api/auth/verify-email/request", json={"email": "nobody@example.org"})
    assert unknown.status_code == 202
    assert await mailer.send_due() == 0
    assert inbox.messages == []


async def test_password_reset_by_mail(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, smtp: tuple[Inbox, int], mailer: MailSender
) -> None:
    """GIVEN an account whose address an admin typed in WHEN a reset is asked THEN the address is confirmed first."""
    inbox, _ = smtp
    user = await make_user(session, settings, await make_tenant(session), email="reset-me@example.org")
    before = await login(client, user)

    assert (await client.post("/api/auth/password-reset/request", json={"email": "stranger@example.org"})).status_code == 202
    assert (await client.post("/api/auth/password-reset/request", json={"email": "RESET-me@example.org"})).status_code == 202
    assert await mailer.send_due() == 1
    assert [m["To"] for m in inbox.messages] == ["reset-me@example.org"]
    # Nobody confirmed the address yet: it gets a confirmation link, never a reset link.
    with pytest.raises(AssertionError, match="no mail"):
        inbox.link("reset-me@example.org", "/reset-password")
    confirm = inbox.link("reset-me@example.org", "/verify-email")
    assert (await client.post("/api/auth/verify-email", json={"token": confirm})).status_code == 204

    assert (await client.post("/api/auth/password-reset/request", json={"email": "reset-me@example.org"})).status_code == 202
    assert await mailer.send_due() == 1
    token = inbox.link("reset-me@example.org", "/reset-password")

    weak = await client.post("/api/auth/password-reset", json={"token": token, "new_password": "password1234"})
    assert weak.status_code == 422  # and the link still works:
    done = await client.post("/api/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204
    again = await client.post("/api/auth/password-reset", json={"token": token, "new_password": "Another-Fine-Password-9"})
    assert again.status_code == 422

    assert (await client.post("/api/auth/refresh", json={"refresh_token": before.refresh_token})).status_code == 401
    assert (await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})).status_code == 401
    assert (await client.post("/api/auth/login", json={"username": user.username, "password": NEW_PASSWORD})).status_code == 200
    await session.refresh(user)
    assert user.email_verified_at is not None


async def test_an_expired_reset_link_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, smtp: tuple[Inbox, int], mailer: MailSender
) -> None:
    inbox, _ = smtp
    user = await make_user(session, settings, await make_tenant(session), email="late@example.org", email_verified=True)
    await client.post("/api/auth/password-reset/request", json={"email": "late@example.org"})
    await mailer.send_due()
    token = inbox.link("late@example.org", "/reset-password")
    stored = await session.scalar(select(AccountToken).where(AccountToken.user_id == user.id))
    assert stored is not None
    stored.expires_at = stored.created_at
    await session.flush()
    response = await client.post("/api/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 422
    assert "expired" in response.json()["detail"]


async def test_mail_survives_an_smtp_outage(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await make_user(session, settings, await make_tenant(session), email="patient@example.org", email_verified=True)
    port = _free_port()
    down = MailSender(make_settings(tmp_path, smtp_url=f"smtp+plain://127.0.0.1:{port}"), sessions)
    await client.post("/api/auth/password-reset/request", json={"email": "patient@example.org"})
    assert await down.send_due() == 0
    queued = await session.scalar(select(OutboxMail).where(OutboxMail.to_address == "patient@example.org"))
    assert queued is not None
    await session.refresh(queued)
    assert queued.attempts == 1
    assert queued.sent_at is None
    assert queued.last_error
    assert "/reset-password#token=" in queued.body  # kept until it can be delivered

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        queued.next_attempt_at = queued.created_at  # the backoff is over
        await session.commit()
        assert await down.send_due() == 1
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.messages] == ["patient@example.org"]


async def test_reset_requests_are_rate_limited(client: httpx.AsyncClient) -> None:
    statuses = [
        (await client.post("/api/auth/password-reset/request", json={"email": "flood@example.org"})).status_code
        for _ in range(12)
    ]
    assert statuses[0] == 202
    assert statuses[-1] == 429


# --- TOTP ------------------------------------------------------------------------------------------


async def _enable_totp(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[pyotp.TOTP, list[str], float]:
    """Turn TOTP on; returns the generator, the recovery codes and when the confirming code was made."""
    begun = await client.post("/api/users/me/totp", headers=headers)
    assert begun.status_code == 201, begun.text
    enrollment = begun.json()
    assert enrollment["otpauth_uri"].startswith("otpauth://totp/Nubes:")
    assert enrollment["qr_svg_data_uri"].startswith("data:image/svg+xml")
    totp = pyotp.TOTP(enrollment["secret"])
    wrong = await client.post(
        "/api/users/me/totp/confirm", json={"code": f"{(int(totp.now()) + 1) % 1_000_000:06d}"}, headers=headers
    )
    assert wrong.status_code == 422
    confirmed_at = time.time()
    confirmed = await client.post("/api/users/me/totp/confirm", json={"code": totp.at(confirmed_at)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    return totp, codes, confirmed_at


async def _password_step(client: httpx.AsyncClient, user: User) -> str:
    response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 401
    problem = response.json()
    assert problem["type"] == "urn:nubes:problem:mfa-required"
    assert "access_token" not in problem
    token: str = problem["mfa_token"]
    return token


async def test_totp_sign_in_needs_the_code_and_a_code_works_once(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, settings, await make_tenant(session))
    me = await login(client, user)
    totp, _, confirmed_at = await _enable_totp(client, me.headers)
    status = (await client.get("/api/users/me/totp", headers=me.headers)).json()
    assert status == {"enabled": True, "recovery_codes_left": 10}

    mfa_token = await _password_step(client, user)
    bad = await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, "code": "000000"})
    assert bad.status_code == 401
    assert "attempts left" in bad.json()["detail"]
    # The code that confirmed the set-up was used: the same 30-second code is refused (no replay).
    replay = await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, "code": totp.at(confirmed_at)})
    assert replay.status_code == 401

    # The next step's code works, once.
    next_code = totp.at(confirmed_at, counter_offset=1)
    done = await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, "code": next_code})
    assert done.status_code == 200, done.text
    assert done.json()["token_type"] == "bearer"
    again = await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, "code": next_code})
    assert again.status_code == 401


async def test_recovery_codes_replace_the_app_once_each(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, settings, await make_tenant(session))
    me = await login(client, user)
    _, codes, _ = await _enable_totp(client, me.headers)

    used = await client.post(
        "/api/auth/login/mfa", json={"mfa_token": await _password_step(client, user), "code": codes[0].upper()}
    )
    assert used.status_code == 200
    reused = await client.post("/api/auth/login/mfa", json={"mfa_token": await _password_step(client, user), "code": codes[0]})
    assert reused.status_code == 401
    assert (await client.get("/api/users/me/totp", headers=me.headers)).json()["recovery_codes_left"] == 9

    denied = await client.post("/api/users/me/recovery-codes", json={"password": "not-my-password"}, headers=me.headers)
    assert denied.status_code == 403
    fresh = await client.post("/api/users/me/recovery-codes", json={"password": PASSWORD}, headers=me.headers)
    assert fresh.status_code == 200
    stale = await client.post("/api/auth/login/mfa", json={"mfa_token": await _password_step(client, user), "code": codes[1]})
    assert stale.status_code == 401  # the old set is gone


async def test_the_second_step_locks_after_five_wrong_codes(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, settings, await make_tenant(session))
    me = await login(client, user)
    totp, _, _ = await _enable_totp(client, me.headers)
    mfa_token = await _password_step(client, user)
    for _ in range(5):
        assert (await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, "code": "999999"})).status_code == 401
    locked = await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, "code": totp.now()})
    assert locked.status_code == 401
    assert "sign in again" in locked.json()["detail"]


async def test_turning_totp_off_needs_the_password(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> None:
    user = await make_user(session, settings, await make_tenant(session))
    me = await login(client, user)
    await _enable_totp(client, me.headers)
    assert (await client.post("/api/users/me/totp", headers=me.headers)).status_code == 409
    assert (await client.post("/api/users/me/totp/disable", json={"password": "wrong"}, headers=me.headers)).status_code == 403
    assert (await client.post("/api/users/me/totp/disable", json={"password": PASSWORD}, headers=me.headers)).status_code == 204
    assert (await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})).status_code == 200


# --- passkeys --------------------------------------------------------------------------------------

ORIGIN = "http://testserver"


async def _add_passkey(client: httpx.AsyncClient, headers: dict[str, str], authenticator: SoftAuthenticator) -> dict[str, Any]:
    options = (await client.post("/api/users/me/passkeys/options", headers=headers)).json()
    assert options["public_key"]["rp"]["id"] == "testserver"
    assert options["public_key"]["authenticatorSelection"]["residentKey"] == "required"
    created = await client.post(
        "/api/users/me/passkeys",
        json={"token": options["token"], "name": "Laptop", "credential": authenticator.create(options["public_key"])},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def _passkey_sign_in(client: httpx.AsyncClient, authenticator: SoftAuthenticator, **kwargs: Any) -> httpx.Response:
    options = (await client.post("/api/auth/passkeys/options")).json()
    assertion = authenticator.get(options["public_key"], rp_id="testserver", **kwargs)
    return await client.post("/api/auth/passkeys/login", json={"token": options["token"], "credential": assertion})


async def test_passkey_registration_and_passwordless_sign_in(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, settings, await make_tenant(session))
    me = await login(client, user)
    authenticator = SoftAuthenticator(origin=ORIGIN)
    added = await _add_passkey(client, me.headers, authenticator)
    listed = (await client.get("/api/users/me/passkeys", headers=me.headers)).json()
    assert [key["name"] for key in listed] == ["Laptop"]

    signed_in = await _passkey_sign_in(client, authenticator)
    assert signed_in.status_code == 200, signed_in.text
    client.cookies.clear()
    who = await client.get("/api/users/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
    assert who.json()["user"]["username"] == user.username

    renamed = await client.patch(f"/api/users/me/passkeys/{added['id']}", json={"name": "Work laptop"}, headers=me.headers)
    assert renamed.json()["name"] == "Work laptop"
    assert (await client.delete(f"/api/users/me/passkeys/{added['id']}", headers=me.headers)).status_code == 204
    assert (await _passkey_sign_in(client, authenticator)).status_code == 401


async def test_passkey_answers_that_do_not_check_out_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, settings, await make_tenant(session))
    me = await login(client, user)
    authenticator = SoftAuthenticator(origin=ORIGIN)
    await _add_passkey(client, me.headers, authenticator)

    assert (await _passkey_sign_in(client, authenticator, origin="https://evil.example")).status_code == 401
    assert (await _passkey_sign_in(client, authenticator, flags=UP)).status_code == 401  # no user verification
    stranger = SoftAuthenticator(origin=ORIGIN)
    assert (await _passkey_sign_in(client, stranger)).status_code == 401

    # A challenge is single use: replaying a good answer fails.
    options = (await client.post("/api/auth/passkeys/options")).json()
    assertion = authenticator.get(options["public_key"], rp_id="testserver")
    assert (
        await client.post("/api/auth/passkeys/login", json={"token": options["token"], "credential": assertion})
    ).status_code == 200
    replay = await client.post("/api/auth/passkeys/login", json={"token": options["token"], "credential": assertion})
    assert replay.status_code == 422

    # The same authenticator cannot be registered twice, and registration checks the origin too.
    options = (await client.post("/api/users/me/passkeys/options", headers=me.headers)).json()
    again = authenticator.create(options["public_key"])
    assert (
        await client.post("/api/users/me/passkeys", json={"token": options["token"], "credential": again}, headers=me.headers)
    ).status_code == 409
    options = (await client.post("/api/users/me/passkeys/options", headers=me.headers)).json()
    forged = SoftAuthenticator(origin=ORIGIN).create(options["public_key"], origin="https://evil.example")
    assert (
        await client.post("/api/users/me/passkeys", json={"token": options["token"], "credential": forged}, headers=me.headers)
    ).status_code == 422
    # A malformed answer (no credential id, as a fuzzer sends) is a 422 too, never a 500; so is one at sign-in.
    for credential in ({}, {"id": 1, "response": "x"}, {"rawId": "AA", "response": {"clientDataJSON": "%%"}}):
        options = (await client.post("/api/users/me/passkeys/options", headers=me.headers)).json()
        body = {"token": options["token"], "name": "odd", "credential": credential}
        assert (await client.post("/api/users/me/passkeys", json=body, headers=me.headers)).status_code == 422
        options = (await client.post("/api/auth/passkeys/options")).json()
        login_answer = await client.post("/api/auth/passkeys/login", json={"token": options["token"], "credential": credential})
        assert login_answer.status_code in {401, 422}, login_answer.text


async def test_a_deactivated_user_cannot_sign_in_with_a_passkey(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, settings, await make_tenant(session))
    me = await login(client, user)
    authenticator = SoftAuthenticator(origin=ORIGIN)
    await _add_passkey(client, me.headers, authenticator)
    user.is_active = False
    await session.flush()
    assert (await _passkey_sign_in(client, authenticator)).status_code == 401
