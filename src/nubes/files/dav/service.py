"""WebDAV's rules over the tree: paths to nodes, properties (live and dead), and each method's checks before the
tree's own services do the work (folders, uploads, versions, moves, copies, the trash, the quota).

Only the caller's own tree is reachable (`/dav/files/<you>/`): every query here filters by the principal's tenant and
user, and every write goes through `nubes.files.tree.service` / `nubes.files.uploads.service`, so the rules of the
REST API (names, quotas, versions, trash, thumbnails, search, audit) hold for WebDAV too.
"""

from __future__ import annotations

import dataclasses
import math
import mimetypes
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes, urlsplit

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nubes.config import Settings
from nubes.core.errors import BadRequest, Conflict, Forbidden, NotFound, NubesError
from nubes.core.principal import Principal
from nubes.files.dav import xml
from nubes.files.dav.models import DavProperty
from nubes.files.quota import service as quota
from nubes.files.tree import content, names
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode
from nubes.files.tree.schemas import FolderCreate

PAGE = 500
"""Children read per statement while a PROPFIND of a folder streams."""
INFINITY = -1
"""The `depth` of a PROPFIND with `Depth: infinity`, answered only where the feature flag `INFINITY_FLAG` is on."""
INFINITY_FLAG = "files.dav_infinity"
INFINITY_LIMIT = 10_000
"""Most entries below the folder a `Depth: infinity` PROPFIND answers; past them it ends with a 507 for the folder."""
MAX_PROPERTY_BYTES = 64 * 1024
"""The largest dead property value (its element, serialized)."""
MAX_PROPERTIES = 256
"""Dead properties one node may hold."""
MAX_NAMESPACE_CHARS = 512


class InsufficientStorage(NubesError):
    """RFC 4918 11.5: the write does not fit in the storage quota left."""

    status, code, title = 507, "insufficient-storage", "Insufficient storage"


class PreconditionFailed(NubesError):
    """A condition of the request (If-Match, If-None-Match, Overwrite: F) does not hold."""

    status, code, title = 412, "precondition-failed", "Precondition failed"


class MethodNotAllowed(NubesError):
    """The method does not apply to what the URL names (MKCOL where something exists, PUT on a folder)."""

    status, code, title = 405, "method-not-allowed", "Method not allowed"


class BadGateway(NubesError):
    """RFC 4918 9.8.5: a COPY or MOVE whose Destination is on another server."""

    status, code, title = 502, "bad-gateway", "Destination on another server"


def quota_refusal(exc: quota.QuotaExceeded) -> InsufficientStorage:
    """A quota refusal as WebDAV clients know it (507), with the same reason."""
    return InsufficientStorage(exc.detail)


MTIME_HEADER = "x-oc-mtime"
EARLIEST_MTIME, LATEST_MTIME = 0, 253_402_300_799  # 1970-01-01 to 9999-12-31T23:59:59Z


def client_mtime(header: str | None) -> datetime | None:
    """The content's date a client sends with a PUT (`X-OC-Mtime`, seconds since 1970, as Nextcloud's and rclone's
    clients do), or None without one; 400 when it is no such number."""
    if header is None or not header.strip():
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        raise BadRequest(f"X-OC-Mtime must be seconds since 1970-01-01 (such as 1700000000), not {header[:40]!r}.") from None
    if not (math.isfinite(seconds) and EARLIEST_MTIME <= seconds <= LATEST_MTIME):
        raise BadRequest("X-OC-Mtime must be a date between 1970 and 9999, in seconds since 1970-01-01.")
    return datetime.fromtimestamp(int(seconds), UTC)


# --- paths ------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Located:
    """What a path names: the node (None: nothing there), the folder it is or would be in (None: the path is the root,
    or a folder on the way is missing or is a file), and its last name ("" for the root)."""

    node: FileNode | None
    parent: FileNode | None
    name: str


async def _child(session: AsyncSession, principal: Principal, folder: FileNode, name: str) -> FileNode | None:
    found: FileNode | None = await session.scalar(
        select(FileNode).where(
            FileNode.tenant_id == principal.tenant_id,
            FileNode.owner_id == principal.user_id,
            FileNode.parent_id == folder.id,
            FileNode.name_key == names.clash_key(name),
            FileNode.in_trash.is_(False),
        )
    )
    return found


async def locate(*, session: AsyncSession, principal: Principal, segments: Sequence[str]) -> Located:
    """The node at `segments` in the principal's own tree (names compared as the tree compares them)."""
    root = await tree.get_root(session=session, principal=principal)
    if not segments:
        return Located(node=root, parent=None, name="")
    return await locate_under(session=session, principal=principal, top=root, segments=segments)


async def locate_under(*, session: AsyncSession, principal: Principal, top: FileNode, segments: Sequence[str]) -> Located:
    """The node at `segments` below the folder `top` of the principal's tree (a public link's folder: nothing above
    it can be named)."""
    folder = top
    for segment in segments[:-1]:
        step = await _child(session, principal, folder, segment)
        if step is None or step.kind == "file":
            return Located(node=None, parent=None, name=segments[-1])
        folder = step
    return Located(node=await _child(session, principal, folder, segments[-1]), parent=folder, name=segments[-1])


@dataclasses.dataclass(frozen=True, slots=True)
class Destination:
    """Where a COPY or MOVE goes: the path's names in the caller's tree and the href as it was sent."""

    segments: tuple[str, ...]
    href: str


def destination(header: str | None, *, hosts: Iterable[str], mounts: Iterable[str], root_path: str = "") -> Destination:
    """The Destination header, checked: this server, one of the caller's own tree's mounts, no `.`/`..` (encoded or not).

    `hosts` are the names this server answers to (the request's Host, the public URL's); `mounts` are the encoded
    hrefs of the caller's root under each mount (`/dav/files/alice`, ...).
    """
    if not header:
        raise BadRequest("COPY and MOVE need a Destination header with the target's URL.")
    parts = urlsplit(header.strip())
    if parts.scheme and parts.scheme not in {"http", "https"}:
        raise BadRequest("The Destination must be an http(s) URL or an absolute path on this server.")
    if parts.netloc and parts.netloc.lower() not in {host.lower() for host in hosts if host}:
        raise BadGateway(f"The Destination {parts.netloc!r} is another server; copy and move only within this one.")
    if parts.query or parts.fragment:
        raise BadRequest("The Destination may not carry a query or a fragment.")
    try:
        path = unquote_to_bytes(parts.path).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The Destination's path is not percent-encoded UTF-8.") from None
    if "\x00" in path:
        raise BadRequest("The Destination's path holds a NUL character.")
    raw_segments = path.split("/")
    if any(segment in {".", ".."} for segment in raw_segments):
        raise Forbidden("The Destination may not contain `.` or `..` segments; give the target's own path.")
    for mount in mounts:
        decoded_mount = unquote_to_bytes(root_path + mount).decode("utf-8")
        if path == decoded_mount or path.startswith(decoded_mount + "/"):
            rest = path[len(decoded_mount) :]
            return Destination(segments=tuple(segment for segment in rest.split("/") if segment), href=parts.path)
    raise Forbidden("The Destination is not in your own files; copy and move only within your tree (/dav/files/<you>/).")


# --- properties -------------------------------------------------------------------------------------------------

D = xml.DAV
RESOURCETYPE, GETETAG, GETLASTMODIFIED = (D, "resourcetype"), (D, "getetag"), (D, "getlastmodified")
GETCONTENTLENGTH, GETCONTENTTYPE, CREATIONDATE = (D, "getcontentlength"), (D, "getcontenttype"), (D, "creationdate")
DISPLAYNAME, SUPPORTEDLOCK, LOCKDISCOVERY = (D, "displayname"), (D, "supportedlock"), (D, "lockdiscovery")
QUOTA_AVAILABLE, QUOTA_USED = (D, "quota-available-bytes"), (D, "quota-used-bytes")

LIVE = frozenset(
    {
        RESOURCETYPE, GETETAG, GETLASTMODIFIED, GETCONTENTLENGTH, GETCONTENTTYPE, CREATIONDATE, DISPLAYNAME,
        SUPPORTEDLOCK, LOCKDISCOVERY, QUOTA_AVAILABLE, QUOTA_USED,
    }
)  # fmt: skip
"""Properties the server computes: protected (PROPPATCH gets 403 for them), never stored."""
ALLPROP = (
    RESOURCETYPE,
    GETETAG,
    GETLASTMODIFIED,
    GETCONTENTLENGTH,
    GETCONTENTTYPE,
    CREATIONDATE,
    DISPLAYNAME,
    SUPPORTEDLOCK,
    LOCKDISCOVERY,
)
"""The live properties `allprop` shows (RFC 4331's quota ones only when asked, as that RFC says)."""


@dataclasses.dataclass(frozen=True, slots=True)
class LiveExtension:
    """Live properties another front-end computes (Nextcloud's `oc:`/`nc:` ones), shown only when asked by name.

    `prepare` reads what a page of entries needs (once per page); `render` gives a property's inner XML (None: it
    does not apply to that entry) from the entry, the caller and what `prepare` returned.
    """

    names: frozenset[xml.QName]
    prepare: Callable[[AsyncSession, Principal, Sequence[uuid.UUID]], Awaitable[Any]]
    render: Callable[[xml.QName, Entry, Principal, Any], str | None]


EXTENSIONS: list[LiveExtension] = []


def register_live(extension: LiveExtension) -> None:
    """Add live properties (protected from PROPPATCH like the others, computed, never stored)."""
    EXTENSIONS.append(extension)


def is_live(name: xml.QName) -> bool:
    """Whether the server computes `name` (RFC 4918's and RFC 4331's, or a registered extension's)."""
    return name in LIVE or any(name in extension.names for extension in EXTENSIONS)


class Entry(Protocol):
    """What a property is computed from: a node, or a read row of the tree's listing."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def created_at(self) -> Any: ...
    @property
    def updated_at(self) -> Any: ...
    @property
    def modified_at(self) -> Any: ...


@dataclasses.dataclass(slots=True)
class PropertyReader:
    """Renders the properties a PROPFIND asks for, one entry at a time (dead properties and locks read per page)."""

    ask: xml.Propfind
    quota_used: int | None = None
    quota_available: int | None = None
    dead: dict[uuid.UUID, dict[xml.QName, str]] = dataclasses.field(default_factory=dict)
    locks: dict[uuid.UUID, list[str]] = dataclasses.field(default_factory=dict)
    principal: Principal | None = None
    extended: dict[int, Any] = dataclasses.field(default_factory=dict)  # what each asked extension prepared

    def needs_dead(self) -> bool:
        return self.ask.kind != "prop" or any(not is_live(name) for name in self.ask.names)

    def asked_extensions(self) -> list[int]:
        wanted = set(self.ask.names if self.ask.kind == "prop" else self.ask.include)
        return [index for index, extension in enumerate(EXTENSIONS) if wanted & extension.names]

    def needs_locks(self) -> bool:
        return self.ask.kind == "allprop" or LOCKDISCOVERY in self.ask.names

    def needs_quota(self) -> bool:
        wanted = self.ask.names if self.ask.kind == "prop" else self.ask.include
        return QUOTA_USED in wanted or QUOTA_AVAILABLE in wanted

    def live(self, name: xml.QName, entry: Entry) -> str | None:
        """The rendered live property, or None when it does not apply to this entry."""
        if name not in LIVE:
            return self._extended(name, entry)
        value = self._collection_value(name) if entry.kind != "file" else self._file_value(name, entry)
        if value is None:
            value = self._common_value(name, entry)
        if value is None:  # what RFC 4918 leaves out, an extension may give (a folder's ETag for sync clients)
            return self._extended(name, entry)
        return xml.element(name, value)

    def _extended(self, name: xml.QName, entry: Entry) -> str | None:
        for index, state in self.extended.items():
            extension = EXTENSIONS[index]
            if name in extension.names and self.principal is not None:
                value = extension.render(name, entry, self.principal, state)
                return None if value is None else xml.element(name, value)
        return None

    def _file_value(self, name: xml.QName, entry: Entry) -> str | None:
        if name == RESOURCETYPE:
            return ""
        if name == GETETAG:
            return xml.text(content.etag_of(entry.sha256)) if entry.sha256 else None
        if name == GETCONTENTLENGTH:
            return str(entry.size)
        if name == GETCONTENTTYPE:
            return xml.text(content_type(entry))
        return None

    def _collection_value(self, name: xml.QName) -> str | None:
        if name == RESOURCETYPE:
            return "<d:collection/>"
        if name == QUOTA_USED and self.quota_used is not None:
            return str(self.quota_used)
        if name == QUOTA_AVAILABLE and self.quota_available is not None:
            return str(self.quota_available)
        return None

    def _common_value(self, name: xml.QName, entry: Entry) -> str | None:
        if name == GETLASTMODIFIED:
            return xml.http_date(entry.modified_at or entry.updated_at)
        if name == CREATIONDATE:
            return xml.iso_date(entry.created_at)
        if name == DISPLAYNAME:
            return xml.text(entry.name)
        if name == SUPPORTEDLOCK:
            return xml.SUPPORTED_LOCK
        if name == LOCKDISCOVERY:
            return "".join(self.locks.get(entry.id, []))
        return None

    def propstats(self, entry: Entry) -> list[tuple[int, list[str]]]:
        """The entry's `(status, rendered properties)` groups."""
        dead = self.dead.get(entry.id, {})
        if self.ask.kind == "propname":
            live = [xml.element(name) for name in (*ALLPROP, QUOTA_USED, QUOTA_AVAILABLE) if self.live(name, entry) is not None]
            return [(200, live + [xml.element(name) for name in dead])]
        if self.ask.kind == "allprop":
            found = [rendered for name in ALLPROP if (rendered := self.live(name, entry)) is not None]
            found += list(dead.values())
            missing = []
            for name in self.ask.include:
                if name in ALLPROP or name in dead:
                    continue
                rendered = self.live(name, entry)
                if rendered is not None:
                    found.append(rendered)
                else:
                    missing.append(xml.element(name))
            return [(200, found), (404, missing)]
        found, missing = [], []
        for name in self.ask.names:
            rendered = self.live(name, entry) if is_live(name) else dead.get(name)
            if rendered is not None:
                found.append(rendered)
            else:
                missing.append(xml.element(name))
        return [(200, found), (404, missing)]


def content_type(entry: Entry) -> str:
    """A file's media type: the stored one, else guessed from its name."""
    if entry.content_type and entry.content_type != "application/octet-stream":
        return entry.content_type
    guessed, _ = mimetypes.guess_type(entry.name, strict=False)
    return guessed or "application/octet-stream"


async def dead_properties(
    *, session: AsyncSession, principal: Principal, node_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[xml.QName, str]]:
    """The dead properties of each node (its property elements by name)."""
    found: dict[uuid.UUID, dict[xml.QName, str]] = {}
    if not node_ids:
        return found
    rows = await session.execute(
        select(DavProperty.node_id, DavProperty.namespace, DavProperty.name, DavProperty.value).where(
            DavProperty.tenant_id == principal.tenant_id, DavProperty.node_id.in_(list(node_ids))
        )
    )
    for node_id, namespace, name, value in rows:
        found.setdefault(node_id, {})[(namespace, name)] = value
    return found


LockReader = Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, list[str]]]]
"""The rendered `DAV:activelock`s of each node (the API passes the locking module's, so this module never imports it)."""


async def prepare(
    reader: PropertyReader, *, session: AsyncSession, principal: Principal, node_ids: Sequence[uuid.UUID], locks_of: LockReader
) -> None:
    """Read what the next entries' properties need: their dead properties and locks."""
    if reader.needs_dead():
        reader.dead = await dead_properties(session=session, principal=principal, node_ids=node_ids)
    if reader.needs_locks():
        reader.locks = await locks_of(list(node_ids))
    for index in reader.asked_extensions():
        reader.extended[index] = await EXTENSIONS[index].prepare(session, principal, node_ids)


async def propfind(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    node: FileNode,
    href: str,
    depth: int,
    ask: xml.Propfind,
    locks_of: LockReader,
) -> AsyncIterator[bytes]:
    """The multistatus of a PROPFIND, produced as it is sent: the node, then (depth 1) its children a page at a time,
    or (depth `INFINITY`) every folder below it in turn, at most `INFINITY_LIMIT` entries (then a 507 for `href`).

    Memory stays constant whatever the folder's size: each page of `PAGE` children is read, written and dropped.
    """
    reader = PropertyReader(ask=ask, principal=principal)
    if reader.needs_quota():
        used, *_ = await quota.usage(session=session, settings=settings, principal=principal)
        reader.quota_used = used
        reader.quota_available = await quota.available(session=session, settings=settings, principal=principal)
    await prepare(reader, session=session, principal=principal, node_ids=[node.id], locks_of=locks_of)
    yield (xml.MULTISTATUS_START + xml.response(href, reader.propstats(node))).encode()
    folders = [(node.id, href)] if depth != 0 and node.kind != "file" else []
    left = INFINITY_LIMIT
    statement = tree.page_read_statement()
    while folders:
        folder_id, folder_href = folders.pop()
        offset = 0
        while True:
            rows = list(
                await session.execute(
                    statement,
                    {"folder_id": folder_id, "page_limit": PAGE, "page_offset": offset, "viewer_id": principal.user_id},
                )
            )
            if depth == INFINITY:
                if len(rows) > left:
                    yield xml.status_response(href, 507).encode()  # RFC 4918 9.1: the answer was cut short
                    folders, rows = [], rows[:left]
                left -= len(rows)
            if not rows:
                break
            await prepare(reader, session=session, principal=principal, node_ids=[row.id for row in rows], locks_of=locks_of)
            chunk = []
            for row in rows:
                child_href = xml.href(folder_href.rstrip("/"), [row.name], collection=row.kind != "file")
                chunk.append(xml.response(child_href, reader.propstats(row)))
                if depth == INFINITY and row.kind != "file":
                    folders.append((row.id, child_href))
            yield "".join(chunk).encode()
            if len(rows) < PAGE:
                break
            offset += PAGE
    yield xml.MULTISTATUS_END.encode()


# --- PROPPATCH --------------------------------------------------------------------------------------------------


async def proppatch(
    *, session: AsyncSession, principal: Principal, node: FileNode, changes: Sequence[xml.PropertyChange]
) -> list[tuple[int, list[str]]]:
    """Apply the changes all together or none of them (RFC 4918 9.2): the `(status, property elements)` groups to answer.

    A live property is protected (403); when one change fails, the others fail with 424 and nothing is stored.
    """
    current = (await dead_properties(session=session, principal=principal, node_ids=[node.id])).get(node.id, {})
    refused: dict[xml.QName, int] = {}
    names_after = set(current)
    for change in changes:
        namespace, local = change.name
        if is_live(change.name) or len(namespace) > MAX_NAMESPACE_CHARS or len(local) > 255:
            refused[change.name] = 403
        elif change.value is not None and len(change.value.encode()) > MAX_PROPERTY_BYTES:
            refused[change.name] = 507
        elif change.value is not None:
            names_after.add(change.name)
        else:
            names_after.discard(change.name)
    if not refused and len(names_after) > MAX_PROPERTIES:
        refused.update({change.name: 507 for change in changes if change.value is not None and change.name not in current})
    if refused:
        failed: dict[int, list[str]] = {}
        for change in changes:
            failed.setdefault(refused.get(change.name, 424), []).append(xml.element(change.name))
        return sorted(failed.items())
    for change in changes:
        namespace, local = change.name
        await session.execute(
            delete(DavProperty).where(
                DavProperty.tenant_id == principal.tenant_id,
                DavProperty.node_id == node.id,
                DavProperty.namespace == namespace,
                DavProperty.name == local,
            )
        )
        if change.value is not None:
            await session.execute(
                insert(DavProperty).values(
                    node_id=node.id, namespace=namespace, name=local, tenant_id=principal.tenant_id, value=change.value
                )
            )
    return [(200, [xml.element(change.name) for change in dict.fromkeys(changes)])]


# --- COPY -------------------------------------------------------------------------------------------------------


async def _paths(session: AsyncSession, top: FileNode) -> dict[str, uuid.UUID]:
    """Every live node at or under `top` by its path relative to it ("" for `top`)."""
    base = select(FileNode.id, literal("").label("path")).where(FileNode.id == top.id)
    walk = base.cte("walk", recursive=True)
    child = aliased(FileNode)
    walk = walk.union_all(
        select(child.id, (walk.c.path + "/" + child.name).label("path")).where(
            child.parent_id == walk.c.id, child.in_trash.is_(False)
        )
    )
    return {path: node_id for node_id, path in await session.execute(select(walk.c.id, walk.c.path))}


async def copy_properties(*, session: AsyncSession, principal: Principal, source: FileNode, copy: FileNode) -> None:
    """Give the nodes of a copied tree the dead properties of their originals (matched by their paths)."""
    sources = await _paths(session, source) if source.kind != "file" else {"": source.id}
    props = await dead_properties(session=session, principal=principal, node_ids=list(sources.values()))
    if not props:
        return
    copies = await _paths(session, copy) if copy.kind != "file" else {"": copy.id}
    rows = [
        {"node_id": copies[path], "namespace": namespace, "name": local, "tenant_id": principal.tenant_id, "value": value}
        for path, node_id in sources.items()
        if path in copies
        for (namespace, local), value in props.get(node_id, {}).items()
    ]
    for start in range(0, len(rows), 200):
        await session.execute(insert(DavProperty), rows[start : start + 200])


async def copy_folder_alone(
    *, session: AsyncSession, principal: Principal, source: FileNode, parent: FileNode, name: str
) -> FileNode:
    """COPY with Depth 0 of a folder: a new empty folder with the original's dead properties."""
    folder = await tree.create_folder(
        session=session, principal=principal, folder_in=FolderCreate(parent_id=parent.id, name=name)
    )
    props = (await dead_properties(session=session, principal=principal, node_ids=[source.id])).get(source.id, {})
    if props:
        await session.execute(
            insert(DavProperty),
            [
                {"node_id": folder.id, "namespace": ns, "name": local, "tenant_id": principal.tenant_id, "value": value}
                for (ns, local), value in props.items()
            ],
        )
    return folder


async def inside(*, session: AsyncSession, folder: FileNode, target_parent: FileNode) -> bool:
    """Whether `target_parent` is `folder` or lies below it (a copy or move there would go into itself)."""
    if folder.kind == "file":
        return False
    if target_parent.id == folder.id:
        return True
    return folder.id in {ancestor.id for ancestor in await tree.ancestors(session=session, node=target_parent)}


def conflict_missing_parent(href: str) -> Conflict:
    """RFC 4918: a write whose parent collection does not exist is a 409."""
    return Conflict(f"The folder that would hold {href} does not exist; create it first (MKCOL).")


def not_found(href: str) -> NotFound:
    return NotFound(f"Nothing at {href} in your files.")


def path_key(segments: Sequence[str]) -> tuple[str, ...]:
    """A path as the tree compares it (each name normalized and case-folded)."""
    return tuple(names.clash_key(segment) for segment in segments)


def is_below(segments: Sequence[str], top: Sequence[str]) -> bool:
    """Whether `segments` is `top` or a path below it."""
    return len(segments) >= len(top) and path_key(segments[: len(top)]) == path_key(top)
