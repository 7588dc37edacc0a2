"""Pydantic shapes of the AI assistant: its settings (the key is write-only), a connection test, its jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# Printable characters only: a key or model name goes into HTTP headers and JSON, where a control character has no place.
ApiKey = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[\x21-\x7e]+$")]
ModelName = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class AssistantJobs(BaseModel):
    """How the assistant's work on the organization's documents stands."""

    pending: int = Field(description="Documents waiting for an answer (or for a retry).")
    done: int = Field(description="Documents the provider answered for.")
    failed: int = Field(description="Documents for which the provider failed every attempt.")
    last_error: str | None = Field(description="Why the latest failed or retried attempt failed.")


class AssistantSettingsRead(BaseModel):
    """The organization's AI provider. The API key is never returned: only whether one is set."""

    enabled: bool = Field(description="Whether documents whose text is read are sent to the provider for suggestions.")
    base_url: str = Field(description="The provider's OpenAI-compatible base URL (https://api.openai.com/v1).")
    model: str = Field(description="The model asked (gpt-4o-mini, llama3.1, ...).")
    key_set: bool = Field(description="Whether an API key is stored (sealed with the server secret).")
    system_prompt: str = Field(description="The system prompt in use (the default unless changed).")
    prompt_is_default: bool
    default_prompt: str = Field(description="The default system prompt of this version of Nubes.")
    answer_format: str = Field(description="What Nubes adds to the prompt so the answer can be read (not editable).")
    max_chars: int = Field(description="Characters of a document's text sent at most (its beginning).")
    timeout_seconds: int = Field(description="Seconds one answer of the provider may take.")
    allow_private_urls: bool = Field(
        description="Whether this server lets a provider live on a loopback or private address (NUBES_AI_ALLOW_PRIVATE_URLS)."
    )
    updated_at: datetime | None
    jobs: AssistantJobs


class AssistantSettingsUpdate(BaseModel):
    """The organization's AI provider. The key is write-only: `api_key` sets or replaces it, `remove_api_key` removes
    it, neither keeps it."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(strict=True)
    base_url: Annotated[str, StringConstraints(max_length=500)] = ""
    model: ModelName = ""
    api_key: ApiKey | None = Field(default=None, description="A new API key (write-only); absent: the stored one is kept.")
    remove_api_key: bool = Field(default=False, strict=True)
    system_prompt: Annotated[str, StringConstraints(max_length=20_000)] = Field(
        default="", description="The system prompt; empty: the default."
    )
    max_chars: int = Field(default=8000, ge=500, le=100_000, strict=True)
    timeout_seconds: int = Field(default=60, ge=5, le=300, strict=True)

    @model_validator(mode="after")
    def _one_key_change(self) -> AssistantSettingsUpdate:
        if self.api_key is not None and self.remove_api_key:
            raise ValueError("Give a new api_key or remove_api_key, not both.")
        return self


class ConnectionTest(BaseModel):
    """What "Test connection" found: whether the provider answered with the stored settings, or why not."""

    ok: bool
    detail: str = Field(description="What happened, in words (the status, a timeout, a TLS or JSON problem, a refused URL).")
    status: int | None = Field(description="The provider's HTTP status, when it answered.")
    models: int | None = Field(description="How many models the provider lists.")
    model_listed: bool | None = Field(description="Whether the configured model is among them (None: not known).")
    elapsed_ms: int
