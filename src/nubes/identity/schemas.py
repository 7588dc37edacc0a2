"""Field types shared by the identity sub-domains' schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field

# The schema states these patterns exactly, so clients (and schemathesis) know what is accepted.
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"


def _email(value: str) -> str:
    try:
        # No DNS look-ups (a self-hosted install may have no resolver for the domain); `.test` allowed.
        checked = validate_email(value, check_deliverability=False, test_environment=True, globally_deliverable=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return checked.normalized.lower()


def _iso_datetime(value: object) -> object:
    """Only ISO 8601 text (what the schema promises); a bare number is not a time. Naive means UTC."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("use an ISO 8601 date-time such as 2026-11-22T08:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("use an ISO 8601 date-time such as 2026-11-22T08:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


Username = Annotated[
    str,
    Field(pattern=USERNAME_PATTERN, description="2-63 letters, digits, '.', '_' or '-'; stored lower-case."),
    AfterValidator(str.lower),
]


Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(_email)]


NewPassword = Annotated[str, Field(min_length=12, max_length=1024, description="At least 12 characters, not a common password.")]


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


Slug = Annotated[str, Field(pattern=SLUG_PATTERN, description="1-63 lower-case letters, digits and '-'.")]


Password = Annotated[str, Field(min_length=1, max_length=1024)]


OneTimeToken = Annotated[str, Field(min_length=1, max_length=200, description="The token from the link or the previous step.")]
