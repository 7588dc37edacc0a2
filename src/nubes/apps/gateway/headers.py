"""What crosses the gateway in headers: what a service is told (and never told), and what a browser gets back.

Going to the service: hop-by-hop headers, every identity header a client could forge, the client's
`Authorization` (it carries a Nubes token) and Nubes' own cookies are removed; the gateway adds the signed
assertion and the `X-Forwarded-*` headers. Coming back: hop-by-hop headers are removed, a `Location` pointing
at the service is rewritten to the gateway's path, a `Set-Cookie` is kept under `/apps/<slug>/` (and refused
for Nubes' own cookie names), and headers that would reach beyond the app (`Clear-Site-Data`,
`Service-Worker-Allowed`) are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from multidict import CIMultiDict

ASSERTION_HEADER = "X-Nubes-Assertion"
"""The signed identity assertion (a JWT) the service verifies against Nubes' JWKS."""

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "te", "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection"}
)
# Headers that claim who the caller is or where they come from, in the forms other proxies use (oauth2-proxy,
# Apache, seed 002's gateway): only the gateway says that, so a client's copies never pass.
CLAIMED_HEADERS = frozenset({"x-user-id", "x-user-groups", "x-remote-user", "remote-user", "x-real-ip"})
CLAIMED_PREFIXES = ("x-nubes-", "x-auth-request-", "x-forwarded-", "proxy-")
# Never to the service: its value is a Nubes credential, or the gateway sets its own.
REQUEST_DROPPED = frozenset({"authorization", "host", "forwarded", "expect", "cookie"})
# Never back to the browser: they would act beyond the app's path (wipe Nubes' cookies, a service worker for "/").
RESPONSE_DROPPED = frozenset({"clear-site-data", "service-worker-allowed"})


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """The header names a `Connection` header lists (hop-by-hop by declaration)."""
    named: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            named.update(token.strip().lower() for token in value.split(",") if token.strip())
    return named


def is_nubes_cookie(name: str) -> bool:
    """Whether a cookie name is one of Nubes' own (`nubes_access`, `nubes_link_access`, ...), prefixed or not."""
    bare = name.strip().lower().removeprefix("__host-").removeprefix("__secure-")
    return bare.startswith("nubes")


def cookies_for_service(header: str) -> str:
    """The `Cookie` header without Nubes' cookies (an empty string when nothing is left)."""
    kept = [part.strip() for part in header.split(";") if part.strip() and not is_nubes_cookie(part.split("=", 1)[0])]
    return "; ".join(kept)


@dataclass(frozen=True, slots=True)
class Forwarded:
    """Where the request came from, as the service is told in `X-Forwarded-*`."""

    client: str
    proto: str
    host: str
    prefix: str


def request_headers(raw: Iterable[tuple[str, str]], *, forwarded: Forwarded, assertion: str) -> CIMultiDict[str]:
    """The headers the service receives: the client's, cleaned, plus the assertion and `X-Forwarded-*`."""
    pairs = list(raw)
    dropped = _connection_tokens(pairs)
    headers: CIMultiDict[str] = CIMultiDict()
    cookies: list[str] = []
    for name, value in pairs:
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in dropped or lower in CLAIMED_HEADERS or lower.startswith(CLAIMED_PREFIXES):
            continue
        if lower == "cookie":
            cookies.append(value)
        elif lower not in REQUEST_DROPPED:
            headers.add(name, value)
    cookie = cookies_for_service("; ".join(cookies))
    if cookie:
        headers["Cookie"] = cookie
    headers[ASSERTION_HEADER] = assertion
    headers["X-Forwarded-For"] = forwarded.client
    headers["X-Forwarded-Proto"] = forwarded.proto
    headers["X-Forwarded-Host"] = forwarded.host
    headers["X-Forwarded-Prefix"] = forwarded.prefix
    return headers


def response_headers(raw: Iterable[tuple[str, str]], *, base_url: str, prefix: str) -> list[tuple[str, str]]:
    """The headers the browser receives from the service's answer: cleaned, `Location` and `Set-Cookie` rewritten."""
    pairs = list(raw)
    dropped = _connection_tokens(pairs)
    headers: list[tuple[str, str]] = []
    for name, value in pairs:
        lower = name.lower()
        if lower == "location":
            headers.append((name, location(value, base_url=base_url, prefix=prefix)))
        elif lower == "set-cookie":
            cookie = set_cookie(value, prefix=prefix)
            if cookie is not None:
                headers.append((name, cookie))
        elif not (lower in HOP_BY_HOP or lower in dropped or lower in RESPONSE_DROPPED or lower.startswith("proxy-")):
            headers.append((name, value))
    return headers


def location(value: str, *, base_url: str, prefix: str) -> str:
    """A redirect of the service, seen from the browser: its own URLs (absolute or root-relative) under `prefix`.

    A URL already under `prefix` (a service that honours `X-Forwarded-Prefix`) and URLs of other sites stay as they are.
    """
    base = urlsplit(base_url)
    target = urlsplit(value)
    if target.scheme or target.netloc:
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            return value
    elif not value.startswith("/") or value.startswith(prefix + "/") or value == prefix:
        return value  # relative to the current path: right as it is
    base_path = base.path.rstrip("/")
    path = target.path or "/"
    if base_path and not (path == base_path or path.startswith(base_path + "/")):
        return value
    rest = path[len(base_path) :].lstrip("/")
    rewritten = f"{prefix}/{rest}"
    if target.query:
        rewritten += f"?{target.query}"
    if target.fragment:
        rewritten += f"#{target.fragment}"
    return rewritten


def set_cookie(value: str, *, prefix: str) -> str | None:
    """A service's cookie kept to its own path (`Path` under `prefix`, no `Domain`); None for a Nubes cookie name."""
    name_value, *attributes = value.split(";")
    name = name_value.split("=", 1)[0].strip()
    if not name or is_nubes_cookie(name) or name.lower().startswith("__host-"):
        return None  # a __Host- cookie must have Path=/, which no app may set
    kept: list[str] = [name_value.strip()]
    path = prefix + "/"
    for attribute in attributes:
        key, _, attribute_value = attribute.strip().partition("=")
        lowered = key.strip().lower()
        if lowered == "domain" or not lowered:
            continue
        if lowered == "path":
            wanted = attribute_value.strip()
            if wanted == prefix or wanted.startswith(path):
                path = wanted
            continue
        kept.append(attribute.strip())
    kept.insert(1, f"Path={path}")
    return "; ".join(kept)
