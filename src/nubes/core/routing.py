"""The route class every Nubes router uses: JSON bodies must say they are JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from nubes.core.errors import PROBLEM_RESPONSES, UnprocessableEntity, UnsupportedMediaType


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
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None and not _takes_form(self)

        async def checked(request: Request) -> Response:
            raw_target = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
            if b"%00" in raw_target or not _storable(request.url.path + request.url.query):
                raise UnprocessableEntity("The URL contains a NUL character or invalid text; remove it.")
            if takes_json:
                has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
                content_type = request.headers.get("content-type", "")
                if has_body and not _is_json(content_type):
                    shown = content_type or "no Content-Type header"
                    raise UnsupportedMediaType(f"This endpoint reads JSON; send Content-Type: application/json (got {shown}).")
                if has_body and not _storable_json(await request.body()):
                    raise UnprocessableEntity(
                        "The body contains a NUL character or a lone surrogate (\\ud800-\\udfff); remove it."
                    )
            return await handler(request)

        return checked


def _storable(text: str) -> bool:
    """Text every engine can store: no NUL, valid UTF-8 (no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable_json(body: bytes) -> bool:
    """Whether every string (keys included) in a JSON body is storable; cheap unless the body has escapes."""
    if b"\x00" in body:
        return False
    if b"\\u" not in body:
        return True  # without \u escapes, valid UTF-8 JSON can hold neither NUL nor a lone surrogate
    try:
        document = json.loads(body)
    except ValueError:
        return True  # malformed JSON gets its own 400 from the handler
    pending: list[Any] = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and not _storable(value):
            return False
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True


def _takes_form(route: APIRoute) -> bool:
    """Whether a route reads a form or files rather than a JSON document."""
    return any(getattr(param.field_info, "media_type", "") != "application/json" for param in route.dependant.body_params)


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter with Nubes' route class and problem+json error responses documented."""
    kwargs.setdefault("responses", PROBLEM_RESPONSES)
    return APIRouter(route_class=NubesRoute, **kwargs)
