"""Rules of public links: links on a file or folder, the tenant's link policy, and what a link opens.

Public links carry a 256-bit token; the database keeps its SHA-256 for the lookup and a copy sealed
with the server secret so the owner can copy the link again. A link made by a resharer opens nothing
once its maker lost reshare on the node.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
import uuid
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import audit, crypto
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    NubesError,
    TooManyRequests,
    Unauthorized,
    UnprocessableEntity,
)
from nubes.core.principal import Principal
from nubes.core.ratelimit import RateLimiter
from nubes.core.storage import Storage
from nubes.files.links.models import LinkPolicy, PublicLink
from nubes.files.links.schemas import LinkCreate, LinkPolicyUpdate, LinkUpdate
from nubes.files.quota import service as quota
from nubes.files.sharing import access
from nubes.files.sharing import service as sharing
from nubes.files.tree import content
from nubes.files.tree import service as files_service
from nubes.files.tree.models import FileNode
from nubes.files.uploads import service as uploads
from nubes.identity.users import directory, passwords

SEAL_PURPOSE = "files.public-link"


UNLOCK_TTL = 3600


# How long a counted download may be continued by ranges (a dropped connection, a paused download) for free.
RESUME_WINDOW = 900


# Password guesses: per link (an attacker with one link) and per address (one address, many links).
UNLOCK_LIMITS_PER_LINK = "5/minute;30/hour"


UNLOCK_LIMITS_PER_IP = "20/minute;200/hour"


class LinkGone(NubesError):
    """The link existed but no longer works: expired, or its download limit is used up."""

    status, code, title = 410, "link-gone", "Link no longer available"


class LinkPasswordRequired(Unauthorized):
    """The link has a password: POST it to /unlock first."""

    code, title = "link-password-required", "This link needs a password"


class LinkPasswordWrong(Unauthorized):
    """The password given for a link is not its password."""

    code, title = "link-password-wrong", "Wrong password"


class PolicyViolation(UnprocessableEntity):
    """The link breaks a rule of the organization's link policy."""

    code, title = "link-policy", "Not allowed by the link policy"


async def get_policy(*, session: AsyncSession, tenant_id: uuid.UUID) -> LinkPolicy:
    """The tenant's link policy (defaults, not stored, when never set)."""
    policy = await session.get(LinkPolicy, tenant_id)
    return policy or LinkPolicy(tenant_id=tenant_id, default_expiry_days=None, max_expiry_days=None, require_password=False)


async def set_policy(*, session: AsyncSession, principal: Principal, policy_in: LinkPolicyUpdate, origin: Origin) -> LinkPolicy:
    """Replace the tenant's link policy (it applies to links made or changed from now on)."""
    policy = await session.get(LinkPolicy, principal.tenant_id)
    if policy is None:
        policy = LinkPolicy(tenant_id=principal.tenant_id)
        session.add(policy)
    policy.default_expiry_days = policy_in.default_expiry_days
    policy.max_expiry_days = policy_in.max_expiry_days
    policy.require_password = policy_in.require_password
    await session.flush()
    await audit.record(
        session=session,
        action="files.link_policy.update",
        origin=origin,
        principal=principal,
        target_type="tenant",
        target_id=principal.tenant_id,
        detail=policy_in.model_dump(),
    )
    return policy


def _violation(rule: str, message: str) -> PolicyViolation:
    return PolicyViolation(message, errors=[FieldError(loc=["body", rule], msg=message, type=f"policy.{rule}")])


def _checked_expiry(policy: LinkPolicy, expires_at: datetime | None, *, given: bool) -> datetime | None:
    now = utcnow()
    if expires_at is not None and expires_at.tzinfo is None:
        raise UnprocessableEntity(
            "Give expires_at with a time zone (e.g. 2030-01-31T00:00:00Z).",
            errors=[FieldError(loc=["body", "expires_at"], msg="no time zone", type="timezone_naive")],
        )
    if not given:
        candidates = [days for days in (policy.default_expiry_days, policy.max_expiry_days) if days]
        return now + timedelta(days=min(candidates)) if candidates else None
    if expires_at is not None and expires_at <= now:
        raise UnprocessableEntity(
            "expires_at is in the past; choose a later time.",
            errors=[FieldError(loc=["body", "expires_at"], msg="in the past", type="value_error")],
        )
    if policy.max_expiry_days is not None:
        latest = now + timedelta(days=policy.max_expiry_days)
        if expires_at is None or expires_at > latest + timedelta(minutes=5):  # a little slack for the client's clock
            raise _violation(
                "max_expiry_days",
                f"Your organization's policy (max_expiry_days) allows links of at most {policy.max_expiry_days} days; "
                f"choose an expiry before {latest.date().isoformat()}.",
            )
    return expires_at


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(settings: Settings, link: PublicLink) -> str:
    """The link's token, unsealed for its owner."""
    return crypto.unseal(settings.secret_key, SEAL_PURPOSE, link.token_sealed)


async def create_link(
    *, session: AsyncSession, settings: Settings, principal: Principal, node_id: uuid.UUID, link_in: LinkCreate, origin: Origin
) -> PublicLink:
    """A new public link, within the tenant's policy."""
    node, _ = await sharing.shareable(session=session, principal=principal, node_id=node_id)
    if link_in.kind == "upload" and node.kind == "file":
        raise UnprocessableEntity("A drop box (kind upload) is for folders; share a folder, or make a view link.")
    policy = await get_policy(session=session, tenant_id=principal.tenant_id)
    expires_at = _checked_expiry(policy, link_in.expires_at, given="expires_at" in link_in.model_fields_set)
    if policy.require_password and not link_in.password:
        raise _violation("require_password", "Your organization's policy (require_password) asks for a password on every link.")
    token = secrets.token_urlsafe(32)
    link = PublicLink(
        tenant_id=node.tenant_id,
        node_id=node.id,
        owner_id=node.owner_id,
        created_by=principal.user_id,
        kind=link_in.kind,
        token_hash=_token_hash(token),
        token_sealed=crypto.seal(settings.secret_key, SEAL_PURPOSE, token),
        password_hash=await passwords.hash_password(settings, link_in.password) if link_in.password else None,
        expires_at=expires_at,
        max_downloads=link_in.max_downloads,
        download_count=0,
    )
    session.add(link)
    await session.flush()
    await _audit_link(session, principal, origin, "files.link.create", link=link, node=node)
    return link


async def _audit_link(
    session: AsyncSession, principal: Principal, origin: Origin, action: str, *, link: PublicLink, node: FileNode
) -> None:
    await audit.record(
        session=session,
        action=action,
        origin=origin,
        principal=principal,
        target_type=node.kind,
        target_id=node.id,
        detail={
            "name": node.name,
            "link_id": str(link.id),
            "kind": link.kind,
            "expires_at": link.expires_at.isoformat() if link.expires_at else None,
            "password": link.password_hash is not None,
            "max_downloads": link.max_downloads,
        },
    )


async def list_links(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[tuple[PublicLink, bool]]:
    """A node's links (all of them for its owner, one's own for a resharer), each with whether it still works for its maker."""
    node, held = await sharing.shareable(session=session, principal=principal, node_id=node_id)
    query = select(PublicLink).where(PublicLink.node_id == node.id, PublicLink.tenant_id == principal.tenant_id)
    if held != access.OWNER:
        query = query.where(PublicLink.created_by == principal.user_id)
    return [
        (link, await _maker_holds(session, link, node)) for link in await session.scalars(query.order_by(PublicLink.created_at))
    ]


async def link_works(*, session: AsyncSession, link: PublicLink) -> bool:
    """Whether the link's maker may still share its node (a resharer's link opens nothing once they lost reshare)."""
    return await _maker_holds(session, link, await session.get_one(FileNode, link.node_id))


async def _maker_holds(session: AsyncSession, link: PublicLink, node: FileNode) -> bool:
    """Whether the link's maker may still share its node: the owner always, a resharer while they hold reshare there."""
    return link.created_by == link.owner_id or await access.of_user(session, node, link.created_by) >= access.RESHARE


async def _link_of(
    session: AsyncSession, principal: Principal, node_id: uuid.UUID, link_id: uuid.UUID
) -> tuple[FileNode, PublicLink]:
    node, held = await sharing.shareable(session=session, principal=principal, node_id=node_id)
    link = await session.scalar(
        select(PublicLink).where(
            PublicLink.id == link_id, PublicLink.node_id == node.id, PublicLink.tenant_id == principal.tenant_id
        )
    )
    if link is None or (held != access.OWNER and link.created_by != principal.user_id):
        raise NotFound(f"{node.name!r} has no link {link_id} of yours.")
    return node, link


async def update_link(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    node_id: uuid.UUID,
    link_id: uuid.UUID,
    link_in: LinkUpdate,
    origin: Origin,
) -> PublicLink:
    """Change a link's kind, expiry, password or download limit, within the policy."""
    node, link = await _link_of(session, principal, node_id, link_id)
    fields = link_in.model_fields_set
    policy = await get_policy(session=session, tenant_id=principal.tenant_id)
    if "kind" in fields and link_in.kind is not None:
        if link_in.kind == "upload" and node.kind == "file":
            raise UnprocessableEntity("A drop box (kind upload) is for folders.")
        link.kind = link_in.kind
    if "expires_at" in fields:
        link.expires_at = _checked_expiry(policy, link_in.expires_at, given=True)
    if "password" in fields:
        link.password_hash = await passwords.hash_password(settings, link_in.password) if link_in.password else None
    if policy.require_password and link.password_hash is None:
        raise _violation("require_password", "Your organization's policy (require_password) asks for a password on every link.")
    if "max_downloads" in fields:
        link.max_downloads = link_in.max_downloads
    await session.flush()
    await _audit_link(session, principal, origin, "files.link.update", link=link, node=node)
    return link


async def delete_link(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID, link_id: uuid.UUID, origin: Origin
) -> None:
    """Revoke a link: its token stops working with this transaction."""
    node, link = await _link_of(session, principal, node_id, link_id)
    await _audit_link(session, principal, origin, "files.link.revoke", link=link, node=node)
    await session.delete(link)
    await session.flush()


@dataclass(frozen=True, slots=True)
class Opened:
    """A working link, its node, and the owner's principal that reads and writes it on the owner's behalf."""

    link: PublicLink
    node: FileNode
    owner: Principal


async def _deny(session: AsyncSession, link: PublicLink, origin: Origin, reason: str, error: NubesError) -> NubesError:
    """Record a refused public access (kept even though the request fails) and return the error to raise."""
    await audit.record(
        session=session,
        action="files.link.access",
        origin=origin,
        tenant_id=link.tenant_id,
        actor_name="public link",
        target_type="link",
        target_id=link.id,
        outcome="denied",
        detail={"reason": reason, "node_id": str(link.node_id)},
    )
    error.keep_changes = True
    return error


def _access_signature(settings: Settings, link: PublicLink, expires: int) -> str:
    # The password hash is in the signed text: a new password (or none) voids every earlier unlock.
    message = f"link-access:{link.id}:{expires}:{link.password_hash or ''}".encode()
    return crypto.sign(hashlib.sha256(b"nubes-link-access:" + settings.secret_key.encode()).digest(), message)


def access_token(settings: Settings, link: PublicLink) -> str:
    """Proof, for UNLOCK_TTL seconds, that this link's password was given."""
    expires = int(time.time()) + UNLOCK_TTL
    return f"{expires}.{_access_signature(settings, link, expires)}"


def _unlocked(settings: Settings, link: PublicLink, proof: str | None) -> bool:
    if link.password_hash is None:
        return True
    if not proof or "." not in proof:
        return False
    expires_text, _, signature = proof.partition(".")
    expires = content.whole_number(expires_text)
    if expires is None or expires < time.time():
        return False
    return crypto.equal(_access_signature(settings, link, expires), signature)


async def open_link(
    *,
    session: AsyncSession,
    settings: Settings,
    token: str,
    origin: Origin,
    proof: str | None = None,
    check_password: bool = True,
) -> Opened:
    """The link behind a token, if it still works: 404 unknown, 410 expired or used up, 401 locked by a password."""
    link = await session.scalar(select(PublicLink).where(PublicLink.token_hash == _token_hash(token)))
    if link is None:
        raise NotFound("This link does not exist or was revoked.")
    node = await session.get(FileNode, link.node_id)
    if (
        node is None
        or node.in_trash
        or not await directory.is_active_member(session=session, tenant_id=link.tenant_id, user_id=link.owner_id)
    ):
        raise NotFound("This link does not exist or was revoked.")
    if not await _maker_holds(session, link, node):
        raise await _deny(
            session, link, origin, "maker lost access", LinkGone("This link no longer works: whoever shared it lost access.")
        )
    if link.expires_at is not None and link.expires_at <= utcnow():
        raise await _deny(session, link, origin, "expired", LinkGone("This link has expired."))
    if link.max_downloads is not None and link.download_count >= link.max_downloads:
        raise await _deny(session, link, origin, "download limit reached", LinkGone("This link's download limit is used up."))
    if check_password and not _unlocked(settings, link, proof):
        raise LinkPasswordRequired("This link is protected by a password: POST it to /unlock, then try again.")
    owner = Principal(user_id=link.owner_id, tenant_id=link.tenant_id, username="", permissions=frozenset())
    return Opened(link, node, owner)


async def unlock(
    *, session: AsyncSession, settings: Settings, limiter: RateLimiter, token: str, password: str, origin: Origin
) -> str:
    """Check a link's password (attempts rate-limited per link and per address); returns an access proof."""
    opened = await open_link(session=session, settings=settings, token=token, origin=origin, check_password=False)
    link = opened.link
    try:
        await limiter.hit("link-unlock", str(link.id), UNLOCK_LIMITS_PER_LINK)
        await limiter.hit("link-unlock-ip", origin.ip or "unknown", UNLOCK_LIMITS_PER_IP)
    except TooManyRequests as exc:
        raise await _deny(session, link, origin, "too many password attempts", exc) from None
    if link.password_hash is None:
        return access_token(settings, link)
    if not await passwords.verify_password(settings, link.password_hash, password):
        raise await _deny(session, link, origin, "wrong password", LinkPasswordWrong("That is not this link's password."))
    return access_token(settings, link)


async def refuse(session: AsyncSession, opened: Opened, origin: Origin, reason: str, message: str) -> NubesError:
    """A 403 for something this kind of link does not allow (listing a drop box, uploading through a view link)."""
    return await _deny(session, opened.link, origin, reason, Forbidden(message))


async def inside(session: AsyncSession, opened: Opened, node_id: uuid.UUID | None) -> FileNode:
    """The link's node, or a live node under it (never one outside the shared subtree: 404)."""
    if node_id is None or node_id == opened.node.id:
        return opened.node
    node = await session.get(FileNode, node_id)
    if node is None or node.tenant_id != opened.link.tenant_id or node.in_trash:
        raise NotFound("No such item in this shared folder.")
    if opened.node.id not in await access.chain_ids(session, node):
        raise NotFound("No such item in this shared folder.")
    return node


@contextlib.contextmanager
def _owner_space_hidden() -> Iterator[None]:
    """An uploader without an account learns that the owner's space is full, never how much is left."""
    try:
        yield
    except quota.QuotaExceeded:
        raise quota.QuotaExceeded("There is no room for this file in the owner's storage; ask them to free some space.") from None


async def upload(
    *,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    opened: Opened,
    origin: Origin,
    node_id: uuid.UUID | None,
    filename: str,
    content_type: str,
    chunks: AsyncIterable[bytes],
    expected_size: int | None,
) -> tuple[FileNode, str]:
    """An upload through a link, by its kind; returns the node and the name to show the uploader.

    A view link takes none. An edit link takes new files into its folder or a folder under it, and new
    content for its file or a file under it. A drop box takes new files into its own folder only, and
    never says which names exist: a clash gets the next free name, which the answer does not show.
    Everything counts on the owner's quota.
    """
    if opened.link.kind == "view":
        raise await refuse(session, opened, origin, "upload through a view link", "This link lets you view, not upload.")
    drop_box = opened.link.kind == "upload"
    if drop_box and node_id is not None:
        raise await refuse(session, opened, origin, "drop box listing", "A drop box takes uploads into its folder only.")
    target = await inside(session, opened, node_id)
    owner = opened.owner
    with _owner_space_hidden():
        if target.kind == "file":  # an edit link's file gets new content
            where: dict[str, Any] = {"target_id": target.id}
        else:
            name = filename
            if drop_box:
                name = await files_service.free_name_in(session=session, principal=owner, folder_id=target.id, name=name)
            where = {"parent_id": target.id, "name": name}
        try:
            node = await uploads.receive(
                session=session,
                settings=settings,
                principal=owner,
                storage=storage,
                chunks=chunks,
                expected_size=expected_size,
                content_type=content_type,
                **where,
            )
        except files_service.NameTaken:
            if not drop_box:
                raise
            # Its message suggests a free name, which would tell what is taken.
            raise Conflict("Another upload took that name at the same moment; send the file again.") from None
    return node, filename if drop_box and target.kind != "file" else node.name


async def path_within(session: AsyncSession, opened: Opened, folder: FileNode) -> list[FileNode]:
    """The folders from the link's folder down to `folder`'s parent."""
    chain = await files_service.ancestors(session=session, node=folder)
    ids = [entry.id for entry in chain]
    return chain[ids.index(opened.node.id) :] if opened.node.id in ids else []


async def children(session: AsyncSession, opened: Opened, folder: FileNode, limit: int) -> list[FileNode]:
    """What a folder under the link holds (folders first, then by name)."""
    _, _, items, _ = await files_service.list_children(
        session=session, principal=opened.owner, parent_id=folder.id, limit=limit, offset=0
    )
    return items


def _resume_signature(settings: Settings, link: PublicLink, node: FileNode, proof: str, expires: int) -> str:
    # The content's hash is in the signed text: a new content (a new validator) is a new download.
    message = f"link-resume:{link.id}:{node.id}:{node.sha256 or ''}:{proof}:{expires}".encode()
    return crypto.sign(hashlib.sha256(b"nubes-link-resume:" + settings.secret_key.encode()).digest(), message)


def _bound_proof(link: PublicLink, proof: str | None) -> str:
    """The unlock proof a resume ticket is bound to (none for a link without a password)."""
    return (proof or "") if link.password_hash is not None else ""


def _resumes(settings: Settings, link: PublicLink, node: FileNode, proof: str | None, ticket: str | None) -> bool:
    if not ticket or "." not in ticket:
        return False
    expires_text, _, signature = ticket.partition(".")
    expires = content.whole_number(expires_text)
    if expires is None or expires < time.time():
        return False
    expected = _resume_signature(settings, link, node, _bound_proof(link, proof), expires)
    return crypto.equal(expected, signature)


async def count_download(
    *,
    session: AsyncSession,
    settings: Settings,
    opened: Opened,
    origin: Origin,
    node: FileNode,
    first_byte: int,
    proof: str | None,
    ticket: str | None,
) -> str | None:
    """Count a content response against the link's limit; returns the ticket that lets this download resume for free.

    Every response counts, except one that continues (does not start at byte 0) a download this
    client started within RESUME_WINDOW seconds: same link, node, content and unlock proof, shown
    by the ticket the first response gave. The count is one conditional UPDATE, so two racing
    downloads cannot share the last one.
    """
    link = opened.link
    if first_byte > 0 and _resumes(settings, link, node, proof, ticket):
        return None
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update_rows(PublicLink)
            .where(PublicLink.id == link.id)
            .where((PublicLink.max_downloads.is_(None)) | (PublicLink.download_count < PublicLink.max_downloads))
            .values(download_count=PublicLink.download_count + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise await _deny(session, link, origin, "download limit reached", LinkGone("This link's download limit is used up."))
    expires = int(time.time()) + RESUME_WINDOW
    return f"{expires}.{_resume_signature(settings, link, node, _bound_proof(link, proof), expires)}"


def downloads_left(link: PublicLink) -> int | None:
    """How many downloads the link still allows (None: no limit)."""
    return None if link.max_downloads is None else max(link.max_downloads - link.download_count, 0)
