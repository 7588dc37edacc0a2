"""The service manifest, version 1: what a service tells Nubes about itself at `GET /plugin/manifest`.

Nubes publishes its JSON Schema at `GET /api/apps/manifest-schema`. Everything is bounded (lengths, list sizes), and
the settings a service asks for are a small typed field list (text, number, boolean, select, secret), not arbitrary
JSON Schema: no regular expression of the service's ever runs in Nubes.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator, model_validator

MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 256 * 1024
"""The largest manifest (and health answer) Nubes reads from a service."""
MAX_ICON_CHARS = 64 * 1024
DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_MAX_BODY_BYTES = 1024**3

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
"""A service's id: lowercase letters, digits and dashes, starting with a letter, 2 to 40 characters."""
ServicePath = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")]
"""A path on the service, starting with `/` (no query, no fragment)."""
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
METHODS: tuple[Method, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SettingKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PermissionCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)]
GroupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

WebhookEvent = Literal[
    "user.created",
    "user.deleted",
    "group.changed",
    "file.created",
    "file.updated",
    "file.deleted",
    "share.created",
    "share.deleted",
    "document.created",
    "document.updated",
    "app.permissions.changed",
    "app.settings.changed",
]

WEBHOOK_EVENTS: tuple[str, ...] = get_args(WebhookEvent)
"""The events a service may ask for (their delivery is not built yet: the manifest records what it wants)."""

_DOT_SEGMENT = re.compile(r"(^|/)\.\.?(/|$)")
_DATA_ICON = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$")


def _no_dot_segments(path: str) -> str:
    if _DOT_SEGMENT.search(path):
        raise ValueError("a path cannot contain . or .. segments")
    return path


class Strict(BaseModel):
    """A part of the manifest: unknown keys are refused, so a misspelt one is reported instead of ignored."""

    model_config = ConfigDict(extra="forbid")


class UIEntry(Strict):
    """Where the service's user interface starts and how Nubes opens it."""

    path: ServicePath = Field(default="/", description="The page to open, under the service (behind /apps/<id>).")
    open_in: Literal["nubes", "tab"] = Field(
        default="nubes", description="`nubes`: inside Nubes' window (through the gateway); `tab`: in a new tab."
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _no_dot_segments(value)


class Route(Strict):
    """Paths of the service the gateway forwards (a prefix and everything under it), with the methods allowed."""

    path: ServicePath = Field(description="A path prefix on the service, e.g. `/` or `/api/`.")
    methods: list[Method] = Field(default_factory=lambda: list(METHODS), min_length=1, max_length=len(METHODS))

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _no_dot_segments(value)

    @field_validator("methods")
    @classmethod
    def _unique(cls, value: list[Method]) -> list[Method]:
        return list(dict.fromkeys(value))


class ManifestSettingOption(Strict):
    """One choice of a `select` setting."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label: Label


SettingValue = StrictBool | int | float | str


class ManifestSettingField(Strict):
    """One setting a tenant fills in for the service.

    `min`/`max` bound a number's value, and a text's or secret's length. A secret is never shown again once set.
    """

    key: SettingKey
    type: Literal["text", "number", "boolean", "select", "secret"]
    label: Label
    help: Annotated[str, StringConstraints(max_length=300)] = ""
    required: StrictBool = False
    default: SettingValue | None = Field(default=None, description="Not allowed for secrets.")
    min: float | None = Field(default=None, ge=-1e15, le=1e15)
    max: float | None = Field(default=None, ge=-1e15, le=1e15)
    options: list[ManifestSettingOption] = Field(default_factory=list, max_length=50, description="The choices of a `select`.")

    @model_validator(mode="after")
    def _consistent(self) -> ManifestSettingField:
        if self.type == "select" and not self.options:
            raise ValueError(f"setting {self.key!r}: a select needs options")
        if self.type != "select" and self.options:
            raise ValueError(f"setting {self.key!r}: only a select has options")
        if self.type in {"boolean", "select"} and (self.min is not None or self.max is not None):
            raise ValueError(f"setting {self.key!r}: min and max bound numbers and texts only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"setting {self.key!r}: min is above max")
        if self.type in {"text", "secret"} and ((self.min or 0) < 0 or (self.max or 0) > 10_000):
            raise ValueError(f"setting {self.key!r}: a text's length bounds lie between 0 and 10000")
        if self.type == "secret" and self.default is not None:
            raise ValueError(f"setting {self.key!r}: a secret has no default")
        if len({option.value for option in self.options}) != len(self.options):
            raise ValueError(f"setting {self.key!r}: two options share a value")
        if self.default is not None:
            check_setting(self, self.default)
        return self


MAX_TEXT_SETTING = 10_000


def check_setting(field: ManifestSettingField, value: SettingValue) -> SettingValue:
    """`value` if it fits `field` (ValueError naming the setting otherwise); an integral number stays a number."""
    name = field.label
    if field.type == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{name} is yes or no (true or false)")
        return value
    if field.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > 1e15:
            raise ValueError(f"{name} must be a number")
        if field.min is not None and value < field.min:
            raise ValueError(f"{name} must be at least {field.min:g}")
        if field.max is not None and value > field.max:
            raise ValueError(f"{name} must be at most {field.max:g}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    if field.type == "select":
        if value not in {option.value for option in field.options}:
            raise ValueError(f"{name} must be one of {', '.join(option.value for option in field.options)}")
        return value
    longest = int(field.max) if field.max is not None else MAX_TEXT_SETTING
    if len(value) > longest:
        raise ValueError(f"{name} is at most {longest} characters")
    if field.min is not None and len(value) < field.min:
        raise ValueError(f"{name} is at least {field.min:g} characters")
    return value


class Webhook(Strict):
    """An event the service wants to hear about, and the path on the service Nubes posts it to."""

    event: WebhookEvent
    path: ServicePath

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _no_dot_segments(value)


class Manifest(Strict):
    """A service's manifest, version 1 (served at `GET {base_url}/plugin/manifest`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "Nubes service manifest"})

    manifest_version: Literal[1] = Field(description="The version of this schema the manifest follows.")
    id: Slug = Field(description="The service's id: its address is /apps/<id>/ and its admin group <id>-admin.")
    name: Label
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""
    version: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    icon: str = Field(
        default="",
        max_length=MAX_ICON_CHARS,
        description="A path on the service (`/static/icon.svg`) or a base64 `data:image/...` URI of at most 64 KiB.",
    )
    ui: UIEntry | None = Field(default=None, description="The service's user interface; none for an API-only service.")
    routes: list[Route] = Field(
        default_factory=list,
        max_length=20,
        description="What the gateway forwards; when empty, every path and method of the service.",
    )
    required_permissions: list[PermissionCode] = Field(
        default_factory=list, max_length=20, description="Nubes permission codes a user needs (besides apps.use)."
    )
    required_groups: list[GroupName] = Field(
        default_factory=list,
        max_length=20,
        description="Groups (by name, in the user's organization) whose members may use the service.",
    )
    allow_superuser: StrictBool = Field(
        default=False, description="Whether platform super-admins may always use it, whatever the grants say."
    )
    settings: list[ManifestSettingField] = Field(default_factory=list, max_length=50)
    webhooks: list[Webhook] = Field(default_factory=list, max_length=20)
    isolated: StrictBool = Field(
        default=False,
        description="Whether the gateway sandboxes the service's pages (a Content-Security-Policy sandbox), so its "
        "scripts cannot act with the user's Nubes session.",
    )
    timeout_seconds: int = Field(
        default=DEFAULT_TIMEOUT_SECONDS, ge=1, le=600, description="How long the gateway waits for the service's answer."
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, ge=0, le=10 * 1024**3, description="The largest request body the gateway forwards."
    )

    @field_validator("icon")
    @classmethod
    def _icon(cls, value: str) -> str:
        if not value or (value.startswith("/") and len(value) <= 200 and not _DOT_SEGMENT.search(value)):
            return value
        if _DATA_ICON.match(value):
            return value
        raise ValueError("give a path on the service (/icon.svg) or a data:image/...;base64,... URI")

    @model_validator(mode="after")
    def _unique_settings(self) -> Manifest:
        keys = [field.key for field in self.settings]
        if len(set(keys)) != len(keys):
            raise ValueError("two settings share a key")
        return self

    def exposed_routes(self) -> list[Route]:
        """What the gateway forwards: the declared routes, or every path and method when none is declared."""
        return self.routes or [Route(path="/")]


def admin_group_name(slug: str) -> str:
    """The group whose members manage a service's settings in their tenant (seed 002's `<service>-admin`)."""
    return f"{slug}-admin"


def admin_group_description(slug: str) -> str:
    """That group's description."""
    return f"Members manage the app {slug} for the organization (its settings)"


def manifest_schema() -> dict[str, object]:
    """The manifest's JSON Schema, as Nubes publishes it."""
    schema = Manifest.model_json_schema()
    schema["$id"] = f"urn:nubes:apps:manifest:v{MANIFEST_VERSION}"
    return schema
