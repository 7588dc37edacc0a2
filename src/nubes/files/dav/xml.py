"""The XML of WebDAV: request bodies parsed safely and bounded, multistatus answers written as text, hrefs encoded.

Request bodies go through defusedxml with every DTD refused (no entity expansion, no external entity, no network
access), a byte cap and a nesting cap, so a billion-laughs or XXE body is a 400 before anything reads it. Answers are
written as strings, not trees: a PROPFIND of a large folder streams one `<d:response>` per child.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Literal
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from fastapi import Request
from starlette.requests import ClientDisconnect

from nubes.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from nubes.files.tree import content

DAV = "DAV:"
MAX_BODY_BYTES = 256 * 1024
"""The largest XML body a PROPFIND, PROPPATCH or LOCK may send: far above what clients send (a few KiB)."""
MAX_NESTING = 32
"""How deep elements may nest in a request body (a property value included)."""
XML_MEDIA_TYPE = "application/xml; charset=utf-8"
MULTISTATUS_START = '<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus xmlns:d="DAV:">'
MULTISTATUS_END = "</d:multistatus>\n"

QName = tuple[str, str]
"""A property's name: (namespace, local name); the namespace is "" for an unqualified name."""


class BadXml(BadRequest):
    """The request body is not XML we read: malformed, with a DTD or entities, nested too deep, or not the element asked."""

    code, title = "bad-xml", "Bad XML body"


class XmlTooLarge(PayloadTooLarge):
    """The XML body is larger than WebDAV requests need."""

    code, title = "xml-too-large", "XML body too large"


# --- reading ---------------------------------------------------------------------------------------------------


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, at most `limit` bytes (413 past it, whatever Content-Length said)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise XmlTooLarge(f"This request sent {declared} bytes of XML; WebDAV bodies here are at most {limit} bytes.")
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise XmlTooLarge(f"The XML body is longer than {limit} bytes, the most a WebDAV request may send here.")
            parts.append(chunk)
    except ClientDisconnect:
        raise BadXml("The connection closed before the whole body arrived.") from None
    return b"".join(parts)


def parse(body: bytes) -> ET.Element | None:
    """The document element of an XML body (None when the body is empty or only white space)."""
    if not body.strip():
        return None
    try:
        root: ET.Element = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadXml(
            f"The XML body declares a DTD or entities ({type(exc).__name__}); WebDAV bodies need neither, and they are refused."
        ) from None
    except ET.ParseError as exc:
        raise BadXml(f"The body is not well-formed XML: {exc}.") from None
    _check_nesting(root)
    return root


def _check_nesting(root: ET.Element) -> None:
    pending = [(root, 1)]
    while pending:
        element, depth = pending.pop()
        if depth > MAX_NESTING:
            raise BadXml(f"The XML body nests elements more than {MAX_NESTING} levels deep; that is refused.")
        pending.extend((child, depth + 1) for child in element)


def qname(tag: str) -> QName:
    """ElementTree's `{namespace}local` as (namespace, local)."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def is_dav(element: ET.Element, local: str) -> bool:
    """Whether `element` is `DAV:local`."""
    return element.tag == f"{{{DAV}}}{local}"


def expect(root: ET.Element | None, local: str) -> ET.Element | None:
    """The body's document element when it is `DAV:local` (None for no body); 400 for another element."""
    if root is not None and not is_dav(root, local):
        namespace, name = qname(root.tag)
        raise BadXml(f"The body's document element must be DAV:{local}, not {name} in namespace {namespace!r}.")
    return root


@dataclass(frozen=True, slots=True)
class Propfind:
    """What a PROPFIND asks for: every property (`allprop`, with `include`d extra ones), their names, or `names`."""

    kind: Literal["allprop", "propname", "prop"]
    names: tuple[QName, ...] = ()
    include: tuple[QName, ...] = ()


def propfind(body: bytes) -> Propfind:
    """Read a PROPFIND body (RFC 4918 14.20); an empty one asks for allprop."""
    root = expect(parse(body), "propfind")
    if root is None:
        return Propfind("allprop")
    kinds = [child for child in root if qname(child.tag)[0] == DAV]
    if any(is_dav(child, "propname") for child in kinds):
        return Propfind("propname")
    prop = next((child for child in kinds if is_dav(child, "prop")), None)
    if prop is not None:
        return Propfind("prop", names=tuple(dict.fromkeys(qname(child.tag) for child in prop)))
    if any(is_dav(child, "allprop") for child in kinds):
        include = next((child for child in kinds if is_dav(child, "include")), None)
        extra = tuple(qname(child.tag) for child in include) if include is not None else ()
        return Propfind("allprop", include=extra)
    raise BadXml("A DAV:propfind body holds DAV:allprop, DAV:propname or DAV:prop.")


@dataclass(frozen=True, slots=True)
class PropertyChange:
    """One instruction of a PROPPATCH: set `name` to `value` (the property element, serialized) or remove it."""

    name: QName
    value: str | None  # None: remove


def proppatch(body: bytes) -> list[PropertyChange]:
    """Read a PROPPATCH body (RFC 4918 14.19): the set and remove instructions, in document order."""
    root = expect(parse(body), "propertyupdate")
    if root is None:
        raise BadXml("PROPPATCH needs a DAV:propertyupdate body.")
    changes: list[PropertyChange] = []
    for instruction in root:
        if not (is_dav(instruction, "set") or is_dav(instruction, "remove")):
            continue
        removing = is_dav(instruction, "remove")
        for prop in instruction:
            if not is_dav(prop, "prop"):
                continue
            for element in prop:
                value = None if removing else ET.tostring(element, encoding="unicode", short_empty_elements=True)
                changes.append(PropertyChange(name=qname(element.tag), value=value))
    if not changes:
        raise BadXml("The DAV:propertyupdate body sets or removes no property.")
    return changes


def refuse_body(body: bytes, method: str) -> None:
    """415 for a body on a method whose body we do not read (MKCOL: RFC 4918 9.3.1)."""
    if body:
        raise UnsupportedMediaType(f"{method} takes no request body here; send it without one.")


# --- writing ---------------------------------------------------------------------------------------------------

# RFC 3986 pchar minus the sub-delimiters clients split on: a name's `#`, `%`, `?`, spaces and non-ASCII are encoded.
_SAFE = "-._~!$&'()*+,=:@"


def href(base: str, segments: Iterable[str], *, collection: bool = False) -> str:
    """The href of a node: `base` (already encoded) and each name percent-encoded as UTF-8; `/` after a collection."""
    path = base + "".join("/" + quote(segment, safe=_SAFE) for segment in segments)
    return path + "/" if collection else path


def element(name: QName, inner: str = "") -> str:
    """A property element named `name` holding `inner` (XML text, escaped already)."""
    namespace, local = name
    if namespace == DAV:
        tag = f"d:{local}"
        return f"<{tag}>{inner}</{tag}>" if inner else f"<{tag}/>"
    declaration = f" xmlns={quoteattr(namespace)}" if namespace else ' xmlns=""'
    return f"<{local}{declaration}>{inner}</{local}>" if inner else f"<{local}{declaration}/>"


def text(value: object) -> str:
    """A value as XML character data."""
    return escape(str(value))


def status_line(status: int) -> str:
    """`HTTP/1.1 200 OK` for a `DAV:status` element."""
    return f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"


def response(href_: str, propstats: Sequence[tuple[int, Sequence[str]]], condition: str | None = None) -> str:
    """One `DAV:response` with a `DAV:propstat` per status that has properties (rendered elements), and the
    precondition that failed, if one did (`cannot-modify-protected-property`)."""
    parts = [f"<d:response><d:href>{escape(href_)}</d:href>"]
    for status, props in propstats:
        if props:
            parts.append(f"<d:propstat><d:prop>{''.join(props)}</d:prop><d:status>{status_line(status)}</d:status></d:propstat>")
    if condition:
        parts.append(f"<d:error><d:{condition}/></d:error>")
    parts.append("</d:response>")
    return "".join(parts)


def status_response(href_: str, status: int, condition: str | None = None) -> str:
    """One `DAV:response` that gives a status for an href (a member that could not be deleted, copied or moved)."""
    error = f"<d:error><d:{condition}/></d:error>" if condition else ""
    return f"<d:response><d:href>{escape(href_)}</d:href><d:status>{status_line(status)}</d:status>{error}</d:response>"


def multistatus(responses: Iterable[str]) -> bytes:
    """A whole multistatus document."""
    return (MULTISTATUS_START + "".join(responses) + MULTISTATUS_END).encode()


def error_body(condition: str, inner: str = "") -> bytes:
    """A `DAV:error` body naming a precondition or postcondition (RFC 4918 16)."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:"><d:{condition}>{inner}</d:{condition}></d:error>\n'
    ).encode()


def http_date(moment: datetime) -> str:
    """An RFC 1123 date for `DAV:getlastmodified`."""
    return content.http_date(_utc(moment))


def iso_date(moment: datetime) -> str:
    """An RFC 3339 date for `DAV:creationdate`."""
    return _utc(moment).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


SUPPORTED_LOCK = (
    "<d:lockentry><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>"
    "<d:lockentry><d:lockscope><d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>"
)
"""The inside of `DAV:supportedlock`: exclusive and shared write locks."""


def active_lock(
    *,
    token: str,
    root: str,
    exclusive: bool,
    depth_infinity: bool,
    owner_xml: str | None,
    expires_at: datetime | None,
    now: datetime | None = None,
) -> str:
    """One `DAV:activelock` (inside `DAV:lockdiscovery`), as PROPFIND and LOCK show it."""
    if expires_at is None:
        timeout = "Infinite"
    else:
        left = (_utc(expires_at) - _utc(now or datetime.now(UTC))).total_seconds()
        timeout = f"Second-{max(int(left), 0)}"
    scope = "<d:exclusive/>" if exclusive else "<d:shared/>"
    return (
        f"<d:activelock><d:locktype><d:write/></d:locktype><d:lockscope>{scope}</d:lockscope>"
        f"<d:depth>{'infinity' if depth_infinity else '0'}</d:depth>{owner_xml or ''}"
        f"<d:timeout>{timeout}</d:timeout><d:locktoken><d:href>{escape(token)}</d:href></d:locktoken>"
        f"<d:lockroot><d:href>{escape(root)}</d:href></d:lockroot></d:activelock>"
    )
