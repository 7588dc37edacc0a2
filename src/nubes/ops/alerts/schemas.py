"""Pydantic shapes of the alerts API: rules, targets, instances, the history, silences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints, WithJsonSchema

Reducer = Literal["last", "max", "min", "avg", "increase", "age"]
Comparator = Literal[">", ">=", "<", "<="]
Severity = Literal["info", "warning", "critical"]
NoData = Literal["ok", "alerting"]
Scope = Literal["platform", "tenant"]
State = Literal["inactive", "pending", "firing", "resolved"]
EventKind = Literal["fired", "resolved", "notified", "failed", "silenced"]
TargetKind = Literal["email", "webhook"]

MAX_MATCHERS = 8
MAX_TARGETS = 10
MAX_EMAILS = 20

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
MetricName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z_][a-z0-9_]*$")]
LabelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z_][a-z0-9_]*$")]
LabelValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Threshold = Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)]
Seconds = Annotated[int, Field(ge=0, le=86_400)]
Window = Annotated[int, Field(ge=30, le=86_400)]


def _few(matchers: dict[str, str]) -> dict[str, str]:
    if len(matchers) > MAX_MATCHERS:
        raise ValueError(f"at most {MAX_MATCHERS} label matchers")
    return matchers


Matchers = Annotated[
    dict[LabelName, LabelValue],
    AfterValidator(_few),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_MATCHERS,
            "propertyNames": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$", "minLength": 1, "maxLength": 64},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200},
        }
    ),
]


def _address(value: str) -> str:
    local, _, domain = value.partition("@")
    if not local or "." not in domain or any(char.isspace() for char in value):
        raise ValueError("not an e-mail address")
    return value


Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(_address)]
WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048, pattern=r"^https?://[^\s/@]+(/[^\s]*)?$")]
"""http(s) only, no user name or password in it (the list of targets shows URLs)."""


class RuleBase(BaseModel):
    """What a rule watches and when it alerts."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    metric: MetricName = Field(description="A metric of the catalog (GET /api/ops/alerts/metrics).")
    matchers: Matchers = Field(default_factory=dict, description="Exact label matches (at most 8).")
    reducer: Reducer = Field(default="last", description="How each series' points in the window become one value.")
    window_seconds: Window = Field(default=300, description="How far back each evaluation reads (30 s .. 1 day).")
    comparator: Comparator
    threshold: Threshold
    for_seconds: Seconds = Field(default=0, description="How long the condition must hold before the alert fires.")
    severity: Severity = "warning"
    no_data: NoData = Field(default="ok", description="What a series that stops reporting counts as.")
    enabled: StrictBool = True
    target_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_TARGETS)


class RuleCreate(RuleBase):
    """A new rule; `scope` platform (super-admins) or tenant (your organization's metrics only)."""

    scope: Scope | None = Field(default=None, description="Default: platform for super-admins, tenant otherwise.")


class RuleUpdate(BaseModel):
    """Change a rule; a field left out is unchanged."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    metric: MetricName | None = None
    matchers: Matchers | None = None
    reducer: Reducer | None = None
    window_seconds: Window | None = None
    comparator: Comparator | None = None
    threshold: Threshold | None = None
    for_seconds: Seconds | None = None
    severity: Severity | None = None
    no_data: NoData | None = None
    enabled: StrictBool | None = None
    target_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_TARGETS)


class RuleRead(RuleBase):
    """A rule with where its series stand."""

    model_config = ConfigDict(extra="ignore")
    id: uuid.UUID
    scope: Scope
    unit: str
    firing: int
    pending: int
    created_at: datetime
    updated_at: datetime


class RuleTemplate(BaseModel):
    """A ready-made rule the UI offers (its fields fill the create dialog)."""

    key: str
    title: str
    description: str
    rule: RuleBase


class MetricChoice(BaseModel):
    """A metric a rule may watch."""

    name: str
    unit: str
    help: str
    labels: list[str]
    scope: str
    derived: bool = Field(description="Computed by the evaluator from two stored metrics (a ratio).")


class TargetCreate(BaseModel):
    """A new notification target: e-mail addresses, or a webhook URL (its signing secret is shown once)."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    kind: TargetKind
    emails: list[Address] = Field(default_factory=list, max_length=MAX_EMAILS)
    url: WebhookUrl | None = None
    scope: Scope | None = None


class TargetRead(BaseModel):
    """A notification target (never its secret)."""

    id: uuid.UUID
    name: str
    kind: TargetKind
    emails: list[str]
    url: str
    scope: Scope
    created_at: datetime


class TargetCreated(TargetRead):
    """A target just made: a webhook's signing secret, shown this once."""

    secret: str | None = Field(description="Keep it in the receiver to check X-Nubes-Signature; it is not shown again.")


class TargetTestResult(BaseModel):
    """How a test notification went."""

    ok: bool
    detail: str


class InstanceRead(BaseModel):
    """One series of a rule, pending or firing now."""

    id: uuid.UUID
    rule_id: uuid.UUID
    rule_name: str
    severity: Severity
    labels: dict[str, str]
    state: State
    since: datetime
    value: float | None
    evaluated_at: datetime
    silenced: bool


class EventRead(BaseModel):
    """One line of the history."""

    id: uuid.UUID
    rule_id: uuid.UUID
    rule_name: str
    severity: str
    labels: dict[str, str]
    kind: EventKind
    value: float | None
    detail: str
    at: datetime


class EventPage(BaseModel):
    """A page of the history, newest first."""

    items: list[EventRead]
    total: int


class SilenceCreate(BaseModel):
    """Mute matching alerts for a while (they still change state and are recorded)."""

    model_config = ConfigDict(extra="forbid")
    rule_id: uuid.UUID | None = Field(default=None, description="Only this rule's instances; all rules when absent.")
    matchers: Matchers = Field(default_factory=dict, description="Only instances with these labels.")
    starts_at: datetime | None = Field(default=None, description="Default: now.")
    duration_seconds: int = Field(ge=60, le=30 * 86_400, description="How long it lasts (1 minute .. 30 days).")
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    scope: Scope | None = None


class SilenceRead(BaseModel):
    """A silence and whether it is in force."""

    id: uuid.UUID
    rule_id: uuid.UUID | None
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    comment: str
    scope: Scope
    active: bool
    created_at: datetime
