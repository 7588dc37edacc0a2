"""Request and response bodies of the console socket."""

from __future__ import annotations

from pydantic import BaseModel


class ConsoleTicket(BaseModel):
    """A single-use ticket for one container's console, and the socket URL that uses it."""

    ticket: str
    expires_in: int
    url: str
