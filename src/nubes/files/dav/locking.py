"""WebDAV locking (RFC 4918 sections 6-9): the LOCK and UNLOCK handlers and the `If` header.

The locks live in `nubes.files.locks` (one set of rules for WebDAV and REST); this module is the protocol side:
it parses `If` (RFC 4918 10.4: tagged and untagged lists, `Not`, state tokens, entity tags), answers LOCK and
UNLOCK, and renders `DAV:lockdiscovery`.

For the WebDAV routes: `check_write` raises `locks.service.Locked` (423) and `PreconditionFailed` (412); both are
`NubesError`s, so they answer as problem documents like any other, and `error_response(exc)` turns them into the
`DAV:error` bodies RFC 4918 names (`lock-token-submitted` with the lock's root, `no-conflicting-lock`) for a route or
exception handler that prefers XML. The source of a DELETE or MOVE leaves its folder, whose lock (any depth) guards
its members: that folder is checked too.
"""

from __future__ import annotations

import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.errors import BadRequest, Conflict, NubesError
from nubes.core.principal import Principal
from nubes.files.dav import xml
from nubes.files.locks import service as locks
from nubes.files.locks.models import OWNER_XML_LIMIT, FileLock
from nubes.files.sharing import access
from nubes.files.tree import content
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode

NO_LOCK = "DAV:no-lock"  # a state token that never matches (RFC 4918 10.4.8)


class PreconditionFailed(NubesError):
    """An `If` header that does not hold (RFC 4918 10.4: no list of a resource is true)."""

    status, code, title = 412, "precondition-failed", "Precondition failed"


class BadIfHeader(BadRequest):
    """An `If` header that does not parse."""

    code, title = "bad-if-header", "Bad If header"


class LockTokenMismatch(Conflict):
    """UNLOCK with a token that names no lock of this resource (RFC 4918 `DAV:lock-token-matches-request-uri`)."""

    code, title = "lock-token-matches-request-uri", "Lock token does not match"


@dataclass(frozen=True, slots=True)
class ActiveLock:
    """One lock as PROPFIND's `DAV:lockdiscovery` shows it."""

    token: str  # "urn:nubes:<the lock id in base64url>" (`FileLock.token`)
    root: str  # the href the lock was taken on
    exclusive: bool
    depth_infinity: bool
    owner_xml: str | None  # the client's `DAV:owner` element, as it sent it
    expires_at: datetime | None  # None: infinite


def _active(lock: FileLock) -> ActiveLock:
    return ActiveLock(
        token=lock.token, root=lock.root, exclusive=lock.exclusive, depth_infinity=lock.depth_infinity,
        owner_xml=lock.owner_xml, expires_at=lock.expires_at,
    )  # fmt: skip


# --- the If header ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of an `If` list: a state token (`<...>`) or an entity tag (`[...]`), maybe negated."""

    negated: bool
    token: str | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class TaggedLists:
    """The lists of an `If` header that apply to one resource (`tag` None: the request URI)."""

    tag: str | None
    lists: tuple[tuple[Condition, ...], ...]


MAX_IF_LENGTH = 16 * 1024


class _IfReader:
    """A cursor over an `If` header's characters."""

    def __init__(self, header: str) -> None:
        self.header, self.position = header, 0

    def skip_space(self) -> str | None:
        """The next character that is not white space (None at the end)."""
        while self.position < len(self.header) and self.header[self.position].isspace():
            self.position += 1
        return self.header[self.position] if self.position < len(self.header) else None

    def until(self, closing: str) -> str:
        """What lies between the current opening character and `closing`; the cursor moves past `closing`."""
        start = self.position + 1
        end = self.header.find(closing, start)
        if end < 0:
            raise BadIfHeader(f"The If header has an unclosed {self.header[self.position]!r} at character {self.position}.")
        self.position = end + 1
        return self.header[start:end]

    def conditions(self) -> tuple[Condition, ...]:
        """One list, the cursor on its `(`."""
        found: list[Condition] = []
        self.position += 1
        negated = False
        while (char := self.skip_space()) != ")":
            if char is None:
                raise BadIfHeader("The If header has an unclosed list.")
            if self.header[self.position : self.position + 3].lower() == "not":
                negated, self.position = True, self.position + 3
                continue
            if char == "<":
                found.append(Condition(negated, token=self.until(">").strip()))
            elif char == "[":
                found.append(Condition(negated, etag=self.until("]").strip()))
            else:
                raise BadIfHeader(f"The If header has {char!r} where a condition should be, at character {self.position}.")
            negated = False
        self.position += 1
        if not found:
            raise BadIfHeader("The If header has an empty list '()'.")
        return tuple(found)


def parse_if(header: str) -> list[TaggedLists]:
    """The `If` header as resource groups of lists (RFC 4918 10.4.2); 400 when it does not parse."""
    if len(header) > MAX_IF_LENGTH:
        raise BadIfHeader(f"The If header is longer than {MAX_IF_LENGTH} characters.")
    reader = _IfReader(header)
    groups: list[TaggedLists] = []
    tag: str | None = None
    lists: list[tuple[Condition, ...]] = []
    while (char := reader.skip_space()) is not None:
        if char == "<":  # a resource tag: the lists after it apply to that resource
            if lists or tag is not None:
                if not lists:
                    raise BadIfHeader("The If header names a resource with no list after it.")
                groups.append(TaggedLists(tag, tuple(lists)))
            tag, lists = reader.until(">"), []
        elif char == "(":
            lists.append(reader.conditions())
        else:
            raise BadIfHeader(f"The If header has {char!r} where a list or a resource should be, at character {reader.position}.")
    if tag is not None and not lists:
        raise BadIfHeader("The If header names a resource with no list after it.")
    if lists:
        groups.append(TaggedLists(tag, tuple(lists)))
    return groups


def submitted_tokens(groups: Sequence[TaggedLists]) -> set[str]:
    """The lock tokens an `If` header names (not negated): the locks the request claims to hold (RFC 4918 10.4.1)."""
    return {
        condition.token
        for group in groups
        for conditions in group.lists
        for condition in conditions
        if condition.token is not None and not condition.negated
    }


def _path(reference: str) -> str:
    """An href or absolute URI as a comparable path: decoded, NFC, without a trailing slash."""
    split = urlsplit(reference.strip())
    path = unquote(split.path)
    return unicodedata.normalize("NFC", path).rstrip("/") or "/"


def _request_path(request: Request) -> str:
    """The request's path as `_path` has it (the ASGI path is decoded already)."""
    root_path: str = request.scope.get("root_path", "")
    path: str = request.scope["path"]
    if root_path and not path.startswith(root_path):  # servers differ on whether `path` holds the root path already
        path = root_path + path
    return unicodedata.normalize("NFC", path).rstrip("/") or "/"


def _parent_path(href: str) -> str:
    path = _path(href)
    return path.rsplit("/", 1)[0] or "/"


async def _holds(
    session: AsyncSession,
    principal: Principal,
    groups: Sequence[TaggedLists],
    resource: FileNode | None,
    parent: FileNode | None,
) -> bool:
    """Whether one resource's lists hold (any list whose every condition is true). `resource` None: an unmapped URL
    in `parent` (no entity tag; the locks of `parent` that reach its members)."""
    if resource is not None:
        present = (await locks.covering(session=session, tenant_id=principal.tenant_id, node_ids=[resource.id]))[resource.id]
        etag = content.etag_of(resource.sha256) if resource.kind == "file" and resource.sha256 else None
    else:
        present = []
        if parent is not None:
            above = (await locks.covering(session=session, tenant_id=principal.tenant_id, node_ids=[parent.id]))[parent.id]
            present = [lock for lock in above if lock.depth_infinity]
        etag = None
    ids = {lock.id for lock in present}

    def true(condition: Condition) -> bool:
        if condition.token is not None:
            found = locks.lock_id(condition.token) if condition.token != NO_LOCK else None
            result = found is not None and found in ids
        else:
            result = etag is not None and (condition.etag or "").removeprefix("W/") == etag
        return result != condition.negated

    return any(all(true(condition) for condition in conditions) for group in groups for conditions in group.lists)


async def evaluate_if(
    request: Request,
    *,
    session: AsyncSession,
    principal: Principal,
    node: FileNode | None,
    parent: FileNode | None,
    href: str,
) -> set[str]:
    """Check the request's `If` header for `href` (and its parent): 412 when the lists of one of them all fail.

    Untagged lists apply to the request URI, tagged ones to the resource they name; lists of a resource that is
    neither `href` nor its parent are left to the call that checks that resource. Returns the submitted tokens.
    """
    header = request.headers.get("if")
    if header is None or not header.strip():
        return set()
    groups = parse_if(header)
    target, above = _path(href), _parent_path(href)
    request_path = _request_path(request)
    for resource_path, resource, container in ((target, node, parent), (above, parent, None)):
        applying = [group for group in groups if (_path(group.tag) if group.tag is not None else request_path) == resource_path]
        if not applying or (resource is None and container is None):
            continue
        if not await _holds(session, principal, applying, resource, container):
            raise PreconditionFailed(f"The If header's conditions do not hold for {resource_path}.")
    return submitted_tokens(groups)


# --- writes ----------------------------------------------------------------------------------------


async def check_write(
    request: Request,
    *,
    session: AsyncSession,
    principal: Principal,
    node: FileNode | None,
    parent: FileNode | None,
    href: str,
    subtree: bool = False,
) -> None:
    """Raise a 423 Locked problem unless this request may change `node` (or create `href` in `parent` when `node` is None).

    Call it before every write: PUT, DELETE, MKCOL, PROPPATCH, the target of COPY/MOVE and the source of MOVE.
    It reads the `If` header of `request` (lock tokens and entity tags; a failed condition is 412) and checks the
    locks on the node, on its ancestors with depth infinity, and with `subtree` (DELETE or MOVE) on everything below
    it and on the folder it leaves. A lock is held when the request names its token and the caller took it.
    """
    tokens = await evaluate_if(request, session=session, principal=principal, node=node, parent=parent, href=href)
    changed: list[FileNode | None] = [node] if node is not None else [parent]
    leaves = subtree or (request.method in {"DELETE", "MOVE"} and _path(href) == _request_path(request))
    if node is not None and leaves and parent is not None:
        changed.append(parent)  # the folder it leaves changes its members
    await locks.ensure_unlocked(
        session=session,
        principal=principal,
        nodes=changed,
        subtree=node if subtree and node is not None and node.kind != "file" else None,
        tokens=tokens,
    )


def error_response(exc: Exception) -> Response | None:
    """The `DAV:error` answer of a locking error (423 with the lock's root, 412, 409), None for any other error."""
    if isinstance(exc, locks.Locked):
        return _locked(exc)
    if isinstance(exc, PreconditionFailed):
        return Response(status_code=412)
    if isinstance(exc, LockTokenMismatch):
        return _xml(409, xml.error_body("lock-token-matches-request-uri"))
    return None


def _locked(exc: locks.Locked) -> Response:
    condition = "no-conflicting-lock" if isinstance(exc, locks.ConflictingLock) else "lock-token-submitted"
    return _xml(423, xml.error_body(condition, f"<d:href>{escape(exc.lock.root)}</d:href>"))


def _xml(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, media_type=xml.XML_MEDIA_TYPE, headers=headers)


# --- discovery -------------------------------------------------------------------------------------


async def discovery(
    *, session: AsyncSession, node_ids: list[uuid.UUID], tenant_id: uuid.UUID | None = None
) -> dict[uuid.UUID, list[ActiveLock]]:
    """The active locks of each node (own locks, and those of ancestors with depth infinity), for `DAV:lockdiscovery`.

    With the nodes' `tenant_id`, a tenant that holds no lock costs one index probe instead of three statements a page.
    """
    if tenant_id is not None and not await locks.any_live(session=session, tenant_id=tenant_id):
        return {node_id: [] for node_id in node_ids}
    found = await locks.covering(session=session, tenant_id=tenant_id, node_ids=node_ids)
    return {node_id: [_active(lock) for lock in there] for node_id, there in found.items()}


def lockdiscovery(active: Sequence[ActiveLock]) -> str:
    """The inside of `DAV:lockdiscovery` for these locks."""
    return "".join(
        xml.active_lock(
            token=lock.token,
            root=lock.root,
            exclusive=lock.exclusive,
            depth_infinity=lock.depth_infinity,
            owner_xml=lock.owner_xml,
            expires_at=lock.expires_at,
        )
        for lock in active
    )


def _lock_answer(lock: FileLock, status: int, *, new: bool) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<d:prop xmlns:d="DAV:"><d:lockdiscovery>'
        f"{lockdiscovery([_active(lock)])}</d:lockdiscovery></d:prop>\n"
    ).encode()
    return _xml(status, body, {"Lock-Token": f"<{lock.token}>"} if new else None)


# --- LOCK and UNLOCK -------------------------------------------------------------------------------


def _owner_xml(owner: ET.Element | None) -> str | None:
    """The client's `DAV:owner` as XML text to show back (`d` is DAV: where it is shown); 400 past the size limit."""
    if owner is None:
        return None
    inner = escape(owner.text or "") + "".join(ET.tostring(child, encoding="unicode") for child in owner)
    rendered = f"<d:owner>{inner}</d:owner>"
    if len(rendered.encode()) > OWNER_XML_LIMIT:
        raise BadRequest(f"The lock's DAV:owner is longer than {OWNER_XML_LIMIT} bytes; send a shorter one.")
    return rendered


def _lockinfo(root: ET.Element) -> tuple[bool, str | None]:
    """(exclusive, owner XML) of a `DAV:lockinfo` body; 400 when it asks for anything but a write lock."""
    scope = next((child for child in root if xml.is_dav(child, "lockscope")), None)
    kind = next((child for child in root if xml.is_dav(child, "locktype")), None)
    if scope is None or len(scope) != 1 or not (xml.is_dav(scope[0], "exclusive") or xml.is_dav(scope[0], "shared")):
        raise BadRequest("A LOCK body needs DAV:lockscope with DAV:exclusive or DAV:shared.")
    if kind is None or len(kind) != 1 or not xml.is_dav(kind[0], "write"):
        raise BadRequest("Only write locks exist (DAV:locktype with DAV:write).")
    owner = next((child for child in root if xml.is_dav(child, "owner")), None)
    return xml.is_dav(scope[0], "exclusive"), _owner_xml(owner)


def _depth(request: Request) -> bool:
    """Whether the LOCK asks for depth infinity (the default); 400 for a depth other than 0 and infinity."""
    depth = (request.headers.get("depth") or "infinity").strip().lower()
    if depth not in {"0", "infinity"}:
        raise BadRequest(f"A lock's Depth is 0 or infinity, not {depth!r}.")
    return depth == "infinity"


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


async def _create_empty(
    request: Request, *, session: AsyncSession, principal: Principal, parent: FileNode, href: str
) -> FileNode:
    """The empty file a LOCK on an unmapped URL makes (RFC 4918 7.3), through the tree's upload rules."""
    name = unquote(href.rstrip("/").rsplit("/", 1)[-1])
    return await tree.upload_small(
        session=session, settings=request.app.state.settings, principal=principal, storage=request.app.state.storage,
        parent_id=parent.id, name=name, content_type="", chunks=_nothing(), expected_size=0,
    )  # fmt: skip


async def handle_lock(
    request: Request,
    *,
    session: AsyncSession,
    principal: Principal,
    node: FileNode | None,
    parent: FileNode | None,
    href: str,
) -> Response:
    """Answer LOCK on `href` (`node`, or an unmapped URL in `parent`): a new lock, or a refresh of one named in `If`."""
    body = xml.expect(xml.parse(await xml.read_body(request)), "lockinfo")
    life = locks.timeout_of(request.headers.get("timeout"))
    if body is None:
        return await _refresh(request, session=session, principal=principal, node=node, parent=parent, href=href, life=life)
    exclusive, owner_xml = _lockinfo(body)
    depth_infinity = _depth(request)
    try:
        tokens = await evaluate_if(request, session=session, principal=principal, node=node, parent=parent, href=href)
        created = node is None
        if node is None:
            if parent is None:
                raise Conflict("The folder this URL would be in does not exist; create it first (MKCOL).")
            await locks.ensure_unlocked(session=session, principal=principal, nodes=[parent], tokens=tokens)
            node = await _create_empty(request, session=session, principal=principal, parent=parent, href=href)
        else:
            node = await tree.get_or_raise(session=session, principal=principal, node_id=node.id, need=access.EDIT)
        lock = await locks.create(
            session=session, principal=principal, node=node, root=href, exclusive=exclusive, depth_infinity=depth_infinity,
            owner_xml=owner_xml, life=life,
        )  # fmt: skip
    except locks.Locked as exc:
        return _locked(exc)
    except PreconditionFailed:
        return Response(status_code=412)
    return _lock_answer(lock, 201 if created else 200, new=True)


async def _refresh(
    request: Request,
    *,
    session: AsyncSession,
    principal: Principal,
    node: FileNode | None,
    parent: FileNode | None,
    href: str,
    life: timedelta,
) -> Response:
    """A LOCK without a body: a new life for the caller's lock that `If` names and that covers `href` (RFC 4918 9.10.2)."""
    try:
        tokens = await evaluate_if(request, session=session, principal=principal, node=node, parent=parent, href=href)
    except PreconditionFailed:
        return Response(status_code=412)
    if not tokens:
        raise BadRequest("A LOCK without a body refreshes a lock: name its token in the If header.")
    if node is None:
        return Response(status_code=412)
    present = (await locks.covering(session=session, tenant_id=principal.tenant_id, node_ids=[node.id]))[node.id]
    lock = next((lock for lock in present if locks.holds(principal, lock, tokens)), None)
    if lock is None:
        return Response(status_code=412)
    await locks.refresh(session=session, lock=lock, life=life)
    return _lock_answer(lock, 200, new=False)


async def handle_unlock(request: Request, *, session: AsyncSession, principal: Principal, node: FileNode, href: str) -> Response:
    """Answer UNLOCK of `node` with the token in the `Lock-Token` header (204), or 409 `DAV:lock-token-matches-request-uri`."""
    header = (request.headers.get("lock-token") or "").strip()
    if not header:
        raise BadRequest("UNLOCK needs a Lock-Token header: <the lock's token>.")
    token = header[1:-1] if header.startswith("<") and header.endswith(">") else header
    present = (await locks.covering(session=session, tenant_id=principal.tenant_id, node_ids=[node.id]))[node.id]
    lock = next((lock for lock in present if locks.lock_id(token) == lock.id), None)
    if lock is None:
        return _xml(409, xml.error_body("lock-token-matches-request-uri"))
    await locks.release(session=session, principal=principal, lock=lock)
    return Response(status_code=204)
