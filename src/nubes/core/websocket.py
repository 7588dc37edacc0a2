"""Browser WebSockets: who is connecting (cookie, bearer or a short-lived ticket), from which site, and how many.

A WebSocket handshake carries the browser's cookies whatever page opened it, so a socket that trusts
cookies must check `Origin` (cross-site WebSocket hijacking). Tickets serve clients that cannot send
cookies: minted by an authenticated API call, bound to one scope (one container's console), valid
for seconds and once. The registry counts each user's open sockets and closes them on demand.

Core knows no domain: this module finds the credential; the caller turns it into a principal.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from nubes.core.crypto import equal, sign, verify

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY = 4429
TICKET_TTL_SECONDS = 30


class WebSocketRefused(Exception):
    """The socket may not be opened (or must be closed): a close code and a reason the client can show."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def origin_allowed(websocket: WebSocket, public_url: str) -> bool:
    """Whether the handshake's Origin is this server; a client that sends none is not a browser and passes."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if public_url:
        return f"{parts.scheme}://{parts.netloc}" == public_url
    return bool(parts.netloc) and parts.netloc == websocket.headers.get("host", "")


@dataclass(frozen=True, slots=True)
class SocketCredential:
    """What a socket presented: an access token (cookie or bearer header), or a user session (a redeemed ticket)."""

    kind: Literal["token", "session"]
    token: str = ""
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None


class Tickets:
    """Short-lived, single-use, scope-bound tickets signed with the server secret."""

    def __init__(self, secret: str, ttl: int = TICKET_TTL_SECONDS) -> None:
        self._key = hashlib.sha256(b"nubes-ws-ticket:" + secret.encode()).digest()
        self.ttl = ttl
        self._spent: dict[str, float] = {}

    def issue(self, *, user_id: uuid.UUID, session_id: uuid.UUID, scope: str) -> str:
        """A ticket for one user session and one scope."""
        expires = int(time.time()) + self.ttl
        body = f"{user_id}|{session_id}|{scope}|{expires}|{secrets.token_urlsafe(12)}"
        encoded = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{encoded}.{sign(self._key, encoded)}"

    def redeem(self, ticket: str, *, scope: str) -> SocketCredential:
        """The user and session of a valid ticket for this scope; it cannot be redeemed again."""
        encoded, _, signature = ticket.partition(".")
        if not encoded or not verify(self._key, signature, encoded):
            raise WebSocketRefused(CLOSE_UNAUTHORIZED, "invalid ticket")
        try:
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            user, session, ticket_scope, expires, _nonce = body.split("|")
            user_id, session_id, expires_at = uuid.UUID(user), uuid.UUID(session), int(expires)
        except ValueError:
            raise WebSocketRefused(CLOSE_UNAUTHORIZED, "invalid ticket") from None
        now = time.time()
        if expires_at < now:
            raise WebSocketRefused(CLOSE_UNAUTHORIZED, "ticket expired; ask for a new one")
        if not equal(ticket_scope, scope):
            raise WebSocketRefused(CLOSE_FORBIDDEN, "this ticket is for something else")
        self._spent = {key: until for key, until in self._spent.items() if until >= now}
        if signature in self._spent:
            raise WebSocketRefused(CLOSE_UNAUTHORIZED, "ticket already used")
        self._spent[signature] = expires_at
        return SocketCredential(kind="session", user_id=user_id, session_id=session_id)


def socket_credential(
    websocket: WebSocket, *, public_url: str, cookie_name: str, tickets: Tickets, scope: str
) -> SocketCredential:
    """The socket's credential after the Origin check: `?ticket=`, else `Authorization: Bearer`, else the session cookie."""
    if not origin_allowed(websocket, public_url):
        raise WebSocketRefused(CLOSE_FORBIDDEN, "this socket was opened from another site")
    ticket = websocket.query_params.get("ticket")
    if ticket:
        return tickets.redeem(ticket, scope=scope)
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return SocketCredential(kind="token", token=value.strip())
    cookie = websocket.cookies.get(cookie_name, "")
    if cookie:
        return SocketCredential(kind="token", token=cookie)
    raise WebSocketRefused(CLOSE_UNAUTHORIZED, "sign in first")


@dataclass
class SocketRegistry:
    """Open sockets per user, with a limit; `close_user` ends them all (access revoked, account deactivated)."""

    per_user: int = 10
    _open: dict[uuid.UUID, set[WebSocket]] = field(default_factory=dict)

    def count(self, user_id: uuid.UUID) -> int:
        """How many sockets the user has open."""
        return len(self._open.get(user_id, ()))

    @contextlib.asynccontextmanager
    async def hold(self, user_id: uuid.UUID, websocket: WebSocket) -> AsyncIterator[None]:
        """Keep the socket on the books while the block runs; refuse one over the user's limit."""
        sockets = self._open.setdefault(user_id, set())
        if len(sockets) >= self.per_user:
            raise WebSocketRefused(CLOSE_TOO_MANY, f"at most {self.per_user} open consoles per user; close one")
        sockets.add(websocket)
        try:
            yield
        finally:
            sockets.discard(websocket)
            if not sockets:
                self._open.pop(user_id, None)

    async def close_user(self, user_id: uuid.UUID, *, code: int = CLOSE_UNAUTHORIZED, reason: str = "access ended") -> int:
        """Close every socket of a user; how many were open."""
        sockets = list(self._open.get(user_id, ()))
        for websocket in sockets:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=code, reason=reason)
        return len(sockets)


async def refuse(websocket: WebSocket, refused: WebSocketRefused) -> None:
    """Close with the refusal's code; before `accept` this answers the handshake with 403."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(code=refused.code, reason=refused.reason[:120])
    await asyncio.sleep(0)
