"""The route class every Nubes router uses: JSON bodies must say they are JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from nubes.core.errors import PROBLEM_RESPONSES, UnsupportedMediaType


def _is_json(content_type: str) -> bool:
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class NubesRoute(APIRoute):
    """An APIRoute that answers 415 (not a confusing 422) when a JSON route gets another media type."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None and not _takes_form(self)
        if not takes_json:
            return handler

        async def checked(request: Request) -> Response:
            has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
            content_type = request.headers.get("content-type", "")
            if has_body and not _is_json(content_type):
                shown = content_type or "no Content-Type header"
                raise UnsupportedMediaType(f"This endpoint reads JSON; send Content-Type: application/json (got {shown}).")
            return await handler(request)

        return checked


def _takes_form(route: APIRoute) -> bool:
    """Whether a route reads a form or files rather than a JSON document."""
    return any(getattr(param.field_info, "media_type", "") != "application/json" for param in route.dependant.body_params)


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter with Nubes' route class and problem+json error responses documented."""
    kwargs.setdefault("responses", PROBLEM_RESPONSES)
    return APIRouter(route_class=NubesRoute, **kwargs)
