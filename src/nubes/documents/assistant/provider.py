"""The OpenAI-compatible provider, reached safely: its address checked (never a link-local or cloud metadata address,
a loopback or private one only when `NUBES_AI_ALLOW_PRIVATE_URLS` allows it), the checked address pinned for the
connection (a DNS answer cannot change between the check and the request), no redirects, no proxies from the
environment, bounded timeouts and bounded answers. Errors say what went wrong without the key.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

CONNECT_TIMEOUT = 10.0
"""Seconds to resolve the provider's name and open a connection, at most."""
TEST_TIMEOUT = 8.0
"""Seconds a "Test connection" waits in all (below the time a browser or a fuzzer waits for the route)."""
MODELS_BYTES = 4 * 1024 * 1024
"""The largest list of models read (some providers list hundreds)."""
ANSWER_BYTES = 512 * 1024
"""The largest chat completion read."""

_ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(network)
    for network in (
        "169.254.0.0/16",  # link-local, where clouds answer metadata requests (169.254.169.254)
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "0.0.0.0/8",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "ff00::/8",
        "::/128",
    )
)
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedURL(ValueError):
    """A provider address Nubes will not call; the message says why."""


class ProviderError(Exception):
    """The provider could not be reached or did not answer usefully; `transient` when trying again later may help."""

    def __init__(self, reason: str, *, status: int | None = None, transient: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Provider:
    """Where to ask, with what: the checked base URL, the model, the key (None: none sent) and the answer timeout."""

    base_url: str
    model: str
    key: str | None = field(repr=False)
    timeout: float
    allow_private: bool


def _refusal(address: _IP, allow_private: bool) -> str | None:
    """Why Nubes will not connect to `address`, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _ALWAYS_REFUSED) or address.is_multicast or address.is_unspecified:
        return "a link-local, metadata or reserved address; Nubes never calls those."
    if not allow_private and not address.is_global:
        return (
            "a loopback or private address; a server administrator allows those with NUBES_AI_ALLOW_PRIVATE_URLS=true "
            "(for a provider on this machine or network)."
        )
    return None


def check_url(url: str, *, allow_private: bool) -> str:
    """The base URL without its trailing slash; RefusedURL when it is not an http(s) address Nubes may call.

    A host given by name is checked again when called (its addresses are only known then).
    """
    text = url.strip()
    if any(character.isspace() or not character.isprintable() for character in text):
        raise RefusedURL("The provider's URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(text)
        port = parts.port
        _ = httpx.URL(text).host  # decodes the name (IDNA), as the client will
    except (ValueError, httpx.InvalidURL) as exc:
        raise RefusedURL(f"This is not a URL: {exc}.") from None
    if parts.scheme not in {"http", "https"}:
        raise RefusedURL("The provider's URL must start with https:// (or http://).")
    host = parts.hostname or ""
    if not host:
        raise RefusedURL("The provider's URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise RefusedURL("Give the key in its own field, not in the URL.")
    if parts.query or parts.fragment:
        raise RefusedURL("The provider's URL takes no query (?...) or fragment (#...).")
    if port == 0:
        raise RefusedURL("The provider's URL has no valid port.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not allow_private and (host == "localhost" or host.endswith((".localhost", ".local", ".internal"))):
            raise RefusedURL(
                f"{host} is a local name; a server administrator allows local providers with NUBES_AI_ALLOW_PRIVATE_URLS=true."
            ) from None
    else:
        if reason := _refusal(address, allow_private):
            raise RefusedURL(f"{address} is {reason}")
    return text.rstrip("/")


async def _address_of(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for `host`: every address its name has must be allowed (so none can be swapped in)."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if reason := _refusal(literal, allow_private):
            raise RefusedURL(f"{literal} is {reason}")
        return str(literal)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise ProviderError(f"The name {host} did not resolve within {CONNECT_TIMEOUT:g} s (timeout).") from None
    except (OSError, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProviderError(f"The name {host} does not resolve ({why}).") from None
    addresses = [ipaddress.ip_address(str(entry[4][0]).split("%")[0]) for entry in found]
    for address in addresses:
        if reason := _refusal(address, allow_private):
            raise RefusedURL(f"{host} resolves to {address}, {reason}")
    if not addresses:
        raise ProviderError(f"The name {host} has no address.")
    # One address is dialled (the one checked); IPv4 first, as a broken IPv6 route is the commoner failure.
    return str(min(addresses, key=lambda address: address.version))


def redact(text: str, key: str | None) -> str:
    """`text` without the key (a provider may echo it in an error)."""
    return text.replace(key, "[key]") if key and len(key) >= 4 else text


def _error_message(body: bytes) -> str:
    """The message of an OpenAI-style error body (`{"error": {"message": ...}}`), or its first characters."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:200]
    if isinstance(error, str):
        return error[:200]
    return ""


def _status_error(status: int, body: bytes, location: str | None) -> ProviderError:
    said = _error_message(body)
    suffix = f": {said}" if said else ""
    if 300 <= status < 400:
        return ProviderError(
            f"The provider redirects ({status}) to {location or 'another address'}; give that address instead.",
            status=status,
            transient=False,
        )
    if status in {401, 403}:
        return ProviderError(f"The provider refused the key ({status}){suffix}", status=status, transient=False)
    if status == 404:
        return ProviderError(
            f"Not found (404) at the provider: is the URL right (it usually ends in /v1) and the model known?{suffix}",
            status=status,
            transient=False,
        )
    if status in {408, 409, 425, 429} or status >= 500:
        return ProviderError(f"The provider answered {status}{suffix}", status=status)
    return ProviderError(f"The provider answered {status}{suffix}", status=status, transient=False)


async def _call(provider: Provider, method: str, path: str, *, body: dict[str, Any] | None, limit: int, wait: float) -> Any:
    """Send one request to the provider; its JSON answer, or ProviderError / RefusedURL with the reason."""
    try:
        url = httpx.URL(provider.base_url + path)
    except httpx.InvalidURL as exc:
        raise RefusedURL(f"This is not a URL: {exc}.") from None
    host = url.raw_host.decode("ascii")  # the name as DNS and TLS know it (IDNA A-labels)
    port = url.port or (443 if url.scheme == "https" else 80)
    address = await _address_of(host, port, allow_private=provider.allow_private)
    headers = {"Host": url.netloc.decode("ascii"), "Accept": "application/json"}
    if provider.key:
        headers["Authorization"] = f"Bearer {provider.key}"
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    limits = httpx.Timeout(wait, connect=min(wait, CONNECT_TIMEOUT))  # per phase (connect, each read)
    try:
        async with (
            asyncio.timeout(wait + CONNECT_TIMEOUT),  # in all, too: a provider dripping its answer cannot hold the worker
            httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=limits) as client,
            client.stream(method, url.copy_with(host=address), headers=headers, json=body, extensions=extensions) as answer,
        ):
            data = bytearray()
            async for chunk in answer.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    raise ProviderError(f"The provider's answer is larger than {limit // 1024} KiB.", transient=False)
            if not 200 <= answer.status_code < 300:
                error = _status_error(answer.status_code, bytes(data), answer.headers.get("location"))
                raise ProviderError(redact(error.reason, provider.key), status=error.status, transient=error.transient)
    except (httpx.TimeoutException, TimeoutError):
        raise ProviderError(f"The provider did not answer within {wait:g} s (timeout).") from None
    except httpx.ConnectError as exc:
        text = redact(str(exc), provider.key)
        if "SSL" in text or "certificate" in text.lower():
            raise ProviderError(f"TLS failed: {text[:200]}", transient=False) from None
        raise ProviderError(f"Cannot connect to {host}:{port}: {text[:200] or 'connection refused'}.") from None
    except httpx.HTTPError as exc:
        raise ProviderError(f"The connection failed: {type(exc).__name__}: {redact(str(exc), provider.key)[:200]}.") from None
    try:
        return json.loads(bytes(data))
    except ValueError:
        raise ProviderError("The provider's answer is not JSON (bad JSON).", status=200) from None


@dataclass(frozen=True, slots=True)
class Check:
    """What "Test connection" found."""

    ok: bool
    detail: str
    status: int | None = None
    models: int | None = None
    model_listed: bool | None = None
    elapsed_ms: int = 0


async def check(provider: Provider) -> Check:
    """Ask the provider for its models (`GET /models`; a one-token chat completion where there is no such list)."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        async with asyncio.timeout(TEST_TIMEOUT):
            try:
                data = await _call(provider, "GET", "/models", body=None, limit=MODELS_BYTES, wait=TEST_TIMEOUT)
            except ProviderError as exc:
                if exc.status not in {404, 405} or not provider.model:
                    raise
                await _call(
                    provider, "POST", "/chat/completions", body=probe(provider.model), limit=ANSWER_BYTES, wait=TEST_TIMEOUT
                )
                return Check(ok=True, detail="The provider answered a chat completion.", status=200, elapsed_ms=elapsed())
    except TimeoutError:
        return Check(ok=False, detail=f"No answer within {TEST_TIMEOUT:g} s (timeout).", elapsed_ms=elapsed())
    except (ProviderError, RefusedURL) as exc:
        return Check(ok=False, detail=redact(str(exc), provider.key), status=getattr(exc, "status", None), elapsed_ms=elapsed())
    listed = data.get("data") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return Check(ok=False, detail='The provider\'s list of models is not the OpenAI shape ({"data": [...]}).', status=200)
    names = {entry.get("id") for entry in listed if isinstance(entry, dict)}
    known = provider.model in names if provider.model else None
    detail = f"Connected: the provider offers {len(listed)} model{'' if len(listed) == 1 else 's'}"
    if known is False:
        detail += f", but not {provider.model!r}"
    return Check(ok=True, detail=detail + ".", status=200, models=len(listed), model_listed=known, elapsed_ms=elapsed())


def probe(model: str) -> dict[str, Any]:
    """The smallest chat completion: one token."""
    return {"model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}


async def complete(provider: Provider, messages: list[dict[str, str]]) -> str:
    """The text of the provider's chat completion of `messages`, asked for as one JSON object."""
    body = {
        "model": provider.model,
        "messages": messages,
        "temperature": 0,
        "max_tokens": 800,
        "response_format": {"type": "json_object"},
    }
    data = await _call(provider, "POST", "/chat/completions", body=body, limit=ANSWER_BYTES, wait=provider.timeout)
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ProviderError("The provider's answer is not a chat completion (no choices[0].message.content).") from None
    if not isinstance(content, str):
        raise ProviderError("The provider's chat completion has no text.")
    return content
