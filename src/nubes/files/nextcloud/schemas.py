"""Schemas of the Nextcloud compatibility layer's REST routes (the login-flow grant page)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LoginFlowRead(BaseModel):
    """A client's sign-in request waiting for an answer: who asks, and until when."""

    client_name: str = Field(description="The client, from its User-Agent (e.g. 'Nextcloud desktop client').")
    expires_at: datetime


class LoginFlowAnswered(BaseModel):
    """The answer was recorded: `granted` (the client collects its app password now) or not."""

    granted: bool
    client_name: str
