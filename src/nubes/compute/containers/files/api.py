"""A container's files through its node's agent: list, download, upload, mkdir, rename, delete.

The server never touches a volume itself: it checks the user's access to the container (tenant and
`containers.console`), then asks the container's agent, which resolves every path beneath the
volume root (see nubes/agent/files.py). Writes are audited. Uploads go in chunks into a hidden part
file and are renamed into place when complete, so a failed upload leaves nothing half written.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from nubes.compute.agents import protocol
from nubes.compute.agents.gateway import AgentHub
from nubes.compute.containers import service
from nubes.compute.containers.models import Container
from nubes.compute.deps import HubDep
from nubes.core import audit, names
from nubes.core.audit import Origin
from nubes.core.db import SessionDep
from nubes.core.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    NubesError,
    PayloadTooLarge,
    ServiceUnavailable,
    UnprocessableEntity,
)
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, require

router = api_router()

MAX_CONTAINER_FILE_BYTES = 256 * 1024 * 1024
Console = Annotated[Principal, Depends(require("containers.console"))]
PathQuery = Annotated[
    str, Query(max_length=4096, description="A path relative to the container's volume, e.g. `config/server.properties`.")
]
FilePathQuery = Annotated[str, Query(max_length=4096, description="The file or folder, relative to the volume (required).")]
_UNUSABLE = {"installing": "is still installing", "deleting": "is being deleted"}


class ContainerFile(BaseModel):
    """One entry of a container's volume; symlinks are listed but never followed."""

    name: str
    path: str
    kind: str = Field(description="file | directory | symlink | other")
    size: int
    mode: int
    modified: float = Field(description="Seconds since the epoch.")


class ContainerFileList(BaseModel):
    """A directory of a container's volume."""

    path: str
    entries: list[ContainerFile]


class FileMove(BaseModel):
    """Rename or move an entry inside the volume."""

    path: str = Field(min_length=1, max_length=4096)
    target: str = Field(min_length=1, max_length=4096)


class FolderCreate(BaseModel):
    """A new directory inside the volume."""

    path: str = Field(min_length=1, max_length=4096)


def _new_name(path: str, loc: list[str | int]) -> None:
    """A name being created in the volume follows the file cloud's rules (no CR/LF or other control characters...).

    Only the created name is checked: folders already there may have any name the container gave them.
    """
    name = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        names.normalize(name)
    except names.BadName as exc:
        raise UnprocessableEntity(
            f"The name {name!r} cannot be used: {exc}; choose another.",
            errors=[FieldError(loc=loc, msg=str(exc), type="value_error.name")],
        ) from None


async def _container(
    session: AsyncSession,
    principal: Principal,
    container_id: uuid.UUID,
    *,
    needs_path: str | None = None,
    creates: tuple[str, list[str | int]] | None = None,
) -> Container:
    """The user's container, with its volume there to reach; the read transaction ends before the agent is asked.

    `creates` is a path whose last name is being made, and where it came from: checked after access (a
    stranger learns nothing) and before the agent is asked.
    """
    container = await service.get_container(session=session, principal=principal, container_id=container_id)
    if needs_path is not None and not needs_path.strip("/."):
        raise UnprocessableEntity(
            "Name a file or folder below the volume's root in `path`.",
            errors=[FieldError(loc=["query", "path"], msg="a path below the root is required", type="value_error")],
        )
    if creates is not None:
        _new_name(*creates)
    if container.state in _UNUSABLE:
        raise Conflict(f"The container {_UNUSABLE[container.state]}; its files cannot be reached now.")
    await session.commit()
    return container


_STATUS: dict[int, type[NubesError]] = {400: BadRequest, 403: Forbidden, 404: NotFound, 409: Conflict, 413: PayloadTooLarge}


async def _ask(hub: AgentHub, container: Container, op: protocol.FileOp, path: str, **fields: Any) -> protocol.FileResult:
    request = protocol.FileRequest(container_id=container.id, op=op, path=path, **fields)
    result = await hub.files(container.node_id, request)
    if result is None:
        raise ServiceUnavailable("The container's node is not connected; try again when its agent is back.")
    if not result.ok:
        error = _STATUS.get(result.status)
        if error is not None:
            raise error(result.error)
        raise ServiceUnavailable(f"The node could not do it: {result.error}")
    return result


def _entry_of(result: protocol.FileResult) -> protocol.FileEntry:
    if result.entry is None:
        raise ServiceUnavailable("The node's answer lacked the entry; is its agent current?")
    return result.entry


def _joined(directory: str, name: str) -> str:
    return f"{directory.rstrip('/')}/{name}" if directory.strip("/") else name


def _file(entry: protocol.FileEntry, path: str) -> ContainerFile:
    return ContainerFile(name=entry.name, path=path, kind=entry.kind, size=entry.size, mode=entry.mode, modified=entry.modified)


async def _audit(
    session: AsyncSession, principal: Principal, origin: Origin, container: Container, action: str, **detail: Any
) -> None:
    await audit.record(
        session=session,
        action=f"compute.container.files.{action}",
        origin=origin,
        principal=principal,
        target_type="container",
        target_id=container.id,
        detail=detail,
    )


@router.get(
    "/containers/{container_id}/files",
    operation_id="containers-files-list",
    response_model=ContainerFileList,
    tags=["containers"],
    summary="List a directory of a container's volume",
)
async def list_files(
    container_id: uuid.UUID, session: SessionDep, principal: Console, hub: HubDep, path: PathQuery = ""
) -> ContainerFileList:
    """The entries of a directory (the volume's root when `path` is empty), directories first."""
    container = await _container(session, principal, container_id)
    result = await _ask(hub, container, "list", path)
    return ContainerFileList(path=path, entries=[_file(entry, _joined(path, entry.name)) for entry in result.entries])


@router.get(
    "/containers/{container_id}/files/content",
    operation_id="containers-files-download",
    tags=["containers"],
    summary="Download a file of a container's volume",
    response_class=StreamingResponse,
    responses={200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}}},
)
async def download_file(
    container_id: uuid.UUID,
    session: SessionDep,
    principal: Console,
    hub: HubDep,
    path: FilePathQuery = "",
) -> Response:
    """The file's bytes, streamed from the node in chunks (only regular files; a symlink is refused)."""
    container = await _container(session, principal, container_id, needs_path=path)
    first = await _ask(hub, container, "read", path, offset=0, length=protocol.FILE_CHUNK)
    data = base64.b64decode(first.data)

    async def rest() -> AsyncIterator[bytes]:
        yield data
        offset = len(data)
        while offset < first.size:
            result = await _ask(hub, container, "read", path, offset=offset, length=protocol.FILE_CHUNK)
            chunk = base64.b64decode(result.data)
            if not chunk:
                return  # the file shrank meanwhile
            yield chunk
            offset += len(chunk)

    name = path.rstrip("/").rsplit("/", 1)[-1]
    return StreamingResponse(
        rest(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": names.content_disposition(name), "X-Content-Type-Options": "nosniff"},
    )


@router.put(
    "/containers/{container_id}/files/content",
    operation_id="containers-files-upload",
    response_model=ContainerFile,
    tags=["containers"],
    summary="Write or upload a file into a container's volume",
    max_body_size=MAX_CONTAINER_FILE_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file's bytes, as is; the file is replaced at once when all of them arrived.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_file(
    container_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Console,
    origin: OriginDep,
    hub: HubDep,
    path: FilePathQuery = "",
) -> ContainerFile:
    """Stream the body to the node into a hidden part file, then rename it over `path` (nothing half written)."""
    container = await _container(session, principal, container_id, needs_path=path, creates=(path, ["query", "path"]))
    limit = min(MAX_CONTAINER_FILE_BYTES, container.disk_mb * 1024 * 1024)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"A file here is at most {limit} bytes (the container's disk limit or the upload limit).")
    upload_id = uuid.uuid4()
    offset = 0
    pending = b""
    try:
        try:
            async for piece in request.stream():
                pending += piece
                if offset + len(pending) > limit:
                    raise PayloadTooLarge(
                        f"A file here is at most {limit} bytes (the container's disk limit or the upload limit)."
                    )
                while len(pending) >= protocol.FILE_CHUNK:
                    chunk, pending = pending[: protocol.FILE_CHUNK], pending[protocol.FILE_CHUNK :]
                    await _write(hub, container, path, upload_id, offset, chunk)
                    offset += len(chunk)
        except ClientDisconnect:
            raise BadRequest("The connection closed before the whole file arrived; nothing was kept.") from None
        if pending or offset == 0:
            await _write(hub, container, path, upload_id, offset, pending)
            offset += len(pending)
        result = await _ask(hub, container, "commit", path, upload_id=upload_id)
    except NubesError:
        await hub.files(
            container.node_id, protocol.FileRequest(container_id=container.id, op="abort", path=path, upload_id=upload_id)
        )
        raise
    await _audit(session, principal, origin, container, "write", path=path, size=offset)
    return _file(_entry_of(result), path)


async def _write(hub: AgentHub, container: Container, path: str, upload_id: uuid.UUID, offset: int, chunk: bytes) -> None:
    await _ask(hub, container, "write", path, upload_id=upload_id, offset=offset, data=base64.b64encode(chunk).decode())


@router.post(
    "/containers/{container_id}/files/mkdir",
    operation_id="containers-files-mkdir",
    response_model=ContainerFile,
    status_code=201,
    tags=["containers"],
    summary="Create a directory in a container's volume",
)
async def make_folder(
    container_id: uuid.UUID, folder_in: FolderCreate, session: SessionDep, principal: Console, origin: OriginDep, hub: HubDep
) -> ContainerFile:
    """A new directory; its parent must exist."""
    container = await _container(session, principal, container_id, creates=(folder_in.path, ["body", "path"]))
    result = await _ask(hub, container, "mkdir", folder_in.path)
    await _audit(session, principal, origin, container, "mkdir", path=folder_in.path)
    return _file(_entry_of(result), folder_in.path)


@router.post(
    "/containers/{container_id}/files/rename",
    operation_id="containers-files-rename",
    response_model=ContainerFile,
    tags=["containers"],
    summary="Rename or move an entry of a container's volume",
)
async def rename_file(
    container_id: uuid.UUID, move_in: FileMove, session: SessionDep, principal: Console, origin: OriginDep, hub: HubDep
) -> ContainerFile:
    """Move `path` to `target` inside the volume; the target must not exist."""
    container = await _container(session, principal, container_id, creates=(move_in.target, ["body", "target"]))
    result = await _ask(hub, container, "rename", move_in.path, target=move_in.target)
    await _audit(session, principal, origin, container, "rename", path=move_in.path, target=move_in.target)
    return _file(_entry_of(result), move_in.target)


@router.delete(
    "/containers/{container_id}/files",
    operation_id="containers-files-delete",
    status_code=204,
    tags=["containers"],
    summary="Delete an entry of a container's volume",
)
async def delete_file(
    container_id: uuid.UUID,
    session: SessionDep,
    principal: Console,
    origin: OriginDep,
    hub: HubDep,
    path: FilePathQuery = "",
) -> None:
    """A file, a symlink (not what it points at) or a directory with all it holds."""
    container = await _container(session, principal, container_id, needs_path=path)
    await _ask(hub, container, "delete", path)
    await _audit(session, principal, origin, container, "delete", path=path)
