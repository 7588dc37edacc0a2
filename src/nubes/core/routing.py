"""The route class every Nubes router uses: JSON bodies must say they are JSON, be storable, and not nest too deep."""

from __future__ import annotations

import operator
from collections.abc import Callable, Coroutine, Iterable, Iterator
from email.message import Message
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.types import Scope

from nubes.core.errors import PROBLEM_RESPONSES, FieldError, UnprocessableEntity, UnsupportedMediaType

# Arrays and objects inside each other in one JSON body: far more than any Nubes document needs (an egg
# uses 4), far below what the parsers, serializers and databases on the way handle (about 1,000 frames
# of recursion), so a body that passes is also read back, exported and stored without a crash.
MAX_JSON_DEPTH = 64


def _is_json(content_type: str) -> bool:
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class NubesRoute(APIRoute):
    """An APIRoute that checks what every handler would otherwise have to.

    - A JSON route answers 415 (not a confusing 422) to another media type.
    - Text that no database stores (NUL characters, lone UTF-16 surrogates) is refused with 422
      wherever it comes (path, query, JSON body), instead of failing deep in a driver with a 500.
    - A JSON body nested deeper than MAX_JSON_DEPTH is refused with 422 when it is parsed, before any
      handler, validator or database sees it. The parsed body is cached on the request, and FastAPI
      reuses it, so the body is parsed once.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None and not _takes_form(self)

        async def checked(request: Request) -> Response:
            scope = request.scope
            query = scope.get("query_string", b"")
            if b"%00" in scope.get("raw_path", b"") + b"?" + query or not _storable(_url_text(scope, query)):
                raise UnprocessableEntity("The URL contains a NUL character or invalid text; remove it.")
            if takes_json:
                has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
                content_type = request.headers.get("content-type", "")
                if has_body and not _is_json(content_type):
                    shown = content_type or "no Content-Type header"
                    raise UnsupportedMediaType(f"This endpoint reads JSON; send Content-Type: application/json (got {shown}).")
                if has_body:
                    await _check_json(request)
            return await handler(request)

        return checked


def _url_text(scope: Scope, query: bytes) -> str:
    """The decoded path (with the root path) and the query string: what `request.url` holds, without building it."""
    path: str = scope.get("root_path", "") + scope["path"]
    return path + query.decode("latin-1")


def _storable(text: str) -> bool:
    """Text every engine can store: no NUL, valid UTF-8 (no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def _check_json(request: Request) -> None:
    """Refuse a JSON body nested too deep or holding unstorable text; malformed JSON is left to FastAPI's 400."""
    body = await request.body()
    if b"\x00" in body:
        raise _unstorable()
    shallow = body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH
    if shallow and b"\\u" not in body:
        return  # cannot nest too deep; without \u escapes, valid UTF-8 JSON holds neither NUL nor a lone surrogate
    try:
        document = await request.json()  # Starlette keeps it; FastAPI's handler reads this same parse
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        return  # malformed JSON gets its own 400 from the handler
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not _storable(value):
                raise _unstorable()
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                pending.extend((key, depth) for key in value)
                pending.extend((item, depth + 1) for item in value.values())
            else:
                pending.extend((item, depth + 1) for item in value)


def _unstorable() -> UnprocessableEntity:
    return UnprocessableEntity("The body contains a NUL character or a lone surrogate (\\ud800-\\udfff); remove it.")


def _too_deep() -> UnprocessableEntity:
    return UnprocessableEntity(
        f"The JSON body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep, the limit for every "
        "request; flatten it.",
        errors=[FieldError(loc=["body"], msg=f"nested deeper than {MAX_JSON_DEPTH} levels", type="json_too_deep")],
    )


def _takes_form(route: APIRoute) -> bool:
    """Whether a route reads a form or files rather than a JSON document."""
    return any(getattr(param.field_info, "media_type", "") != "application/json" for param in route.dependant.body_params)


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter with Nubes' route class and problem+json error responses documented."""
    kwargs.setdefault("responses", PROBLEM_RESPONSES)
    return APIRouter(route_class=NubesRoute, **kwargs)


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route under `routes`, included routers' too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI includes a router lazily, as a wrapper that keeps the router's own (original) routes.
        included = getattr(route, "original_router", None)
        if isinstance(included, APIRouter):
            yield from api_routes(included.routes)


def index_routes(router: APIRouter) -> None:
    """Let each router included in `router` turn away, with one prefix test, a path none of its routes can match.

    FastAPI tries the routes of every included router in turn, a regular expression and some bookkeeping each:
    for a path served by the last router (ops: /api/health), all ~150 of them. A route matches only paths that
    start with the literal part of its own before the first `{`, so a router whose routes' literal parts are
    not a prefix of the path cannot match it, not even partially (a 405). Routers holding anything without
    a path (a Host, FastAPI's frontend groups, low-priority routes) are left as they are, and a router that
    gains routes later is looked at again.
    """
    for route in router.routes:
        if callable(getattr(route, "effective_route_contexts", None)) and not isinstance(route.matches, _Gate):
            route.matches = _Gate(route)  # type: ignore[method-assign]


class _Gate:
    """An included router's `matches`, answering NONE at once for a path outside its routes' literal prefixes."""

    def __init__(self, route: Any) -> None:
        self.route = route
        self.matches = route.matches
        self.prefixes: tuple[str, ...] | None = None
        # The routers under this one and their route-list versions when the prefixes were read: a route added
        # to any of them (or a router included into one) changes a version, and the prefixes are read again.
        self.routers: tuple[Any, ...] = ()
        self.versions: list[int] = []

    def __call__(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in {"http", "websocket"}:
            if list(map(_ROUTES_VERSION, self.routers)) != self.versions or not self.routers:
                self.routers = tuple(_routers(self.route.original_router))
                self.versions = list(map(_ROUTES_VERSION, self.routers))
                self.prefixes = _literal_prefixes(self.route)
            path: str = _route_path(scope) if scope.get("root_path") else scope["path"]
            if self.prefixes is not None and not path.startswith(self.prefixes):
                return Match.NONE, {}
        result: tuple[Match, Scope] = self.matches(scope)
        return result


_ROUTES_VERSION = operator.attrgetter("_routes_version")


def _routers(router: Any) -> Iterator[Any]:
    """`router` and every router included in it, however deep."""
    yield router
    for route in router.routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routers(included)


def _literal_prefixes(route: Any) -> tuple[str, ...] | None:
    """The literal starts of the paths an included router's routes match, or None when one cannot be told."""
    if route.effective_low_priority_routes():
        return None
    prefixes: set[str] = set()
    for context in route.effective_route_contexts():
        served = context.starlette_route or context.original_route
        if not isinstance(served, Route | WebSocketRoute | Mount | APIRoute):
            return None
        path: str = served.path if context.starlette_route is not None else context.path_format
        prefixes.add(path.split("{", 1)[0])
    return tuple(sorted(prefixes))


def _route_path(scope: Scope) -> str:
    """What Starlette routes on: the path without the root path the app is mounted under (its own rule)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path
