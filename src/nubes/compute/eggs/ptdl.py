"""Pterodactyl eggs (PTDL_v2, and PTDL_v1's image list): reading, variables with their rules, startup rendering.

An egg is stored as the imported document, unchanged, so an export gives back the same file; the
models here are a typed view of it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from nubes.compute.agents.protocol import InstallSpec, StopSpec
from nubes.compute.eggs import rules as rule_engine
from nubes.core.errors import FieldError, UnprocessableEntity

_PLACEHOLDER = re.compile(r"\{\{\s*(?:env\.)?([A-Za-z0-9_.]+)\s*\}\}")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_STORED = "stored"  # validation context key: the document was accepted at import, read it back without refusing it

# Names Nubes (like Pterodactyl's Wings and Panel) sets itself, and names the dynamic linker, libc or a shell
# act on: an egg that declared one could move the server's port or memory, or load code into every process.
# Compared upper-cased, as Wings does.
RESERVED_NAMES = frozenset(
    {
        # Wings and the Panel
        "STARTUP",
        "SERVER_MEMORY",
        "SERVER_IP",
        "SERVER_PORT",
        "TZ",
        "P_SERVER_LOCATION",
        "P_SERVER_UUID",
        "P_SERVER_ALLOCATION_LIMIT",
        # the process environment
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "PWD",
        "OLDPWD",
        "HOSTNAME",
        "IFS",
        "ENV",
        "BASH_ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "PROMPT_COMMAND",
        "CDPATH",
        "GLOBIGNORE",
        "GCONV_PATH",
        "LOCPATH",
        "NLSPATH",
        "HOSTALIASES",
        "RESOLV_HOST_CONF",
        "GLIBC_TUNABLES",
    }
)
RESERVED_PREFIXES = ("LD_", "P_SERVER_", "BASH_FUNC_", "NUBES_")


def is_reserved(name: str) -> bool:
    """Whether an egg may not declare `name`: Nubes sets it, or the linker or the shell acts on it."""
    upper = name.upper()
    return upper in RESERVED_NAMES or upper.startswith(RESERVED_PREFIXES)


class EggVariable(BaseModel):
    """One variable of an egg: the environment variable it sets, its default, and its rules."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(max_length=200)
    description: str | None = ""
    env_variable: str = Field(min_length=1, max_length=100, pattern=_ENV_NAME)
    default_value: str | int | float | bool | None = ""
    user_viewable: bool | int = True
    user_editable: bool | int = True
    rules: str | list[str] = ""
    field_type: str | None = "text"

    @field_validator("env_variable")
    @classmethod
    def _not_reserved(cls, value: str, info: ValidationInfo) -> str:
        if is_reserved(value) and not _stored(info):
            raise ValueError(
                f"{value} is a name Nubes sets itself (the server's port, IP, memory, startup...) or one the dynamic "
                "linker or the shell acts on (PATH, HOME, LD_*...); rename the variable, e.g. to EGG_" + value
            )
        return value

    @field_validator("rules")
    @classmethod
    def _rules_parse(cls, value: str | list[str], info: ValidationInfo) -> str | list[str]:
        if _stored(info):
            return value  # checked when imported; a rule this version refuses is reported when a container uses it
        try:
            rule_engine.parse(value)
        except rule_engine.RuleError as exc:
            name = info.data.get("env_variable", "this variable")
            raise ValueError(f"{name}: {exc}") from None
        return value

    @property
    def parsed_rules(self) -> tuple[rule_engine.Rule, ...]:
        """The rules, parsed (they were checked when the egg was read)."""
        return rule_engine.parse(self.rules)

    @property
    def default(self) -> str:
        """The default as the string the container's environment gets."""
        return as_env_value(self.default_value)


class EggInstallation(BaseModel):
    """The install script and the image and entrypoint it runs with."""

    model_config = ConfigDict(extra="allow")

    script: str | None = ""
    container: str = Field(default="", max_length=500)
    entrypoint: str = Field(default="sh", max_length=200)


class EggScripts(BaseModel):
    """The egg's scripts; only the installation script is used."""

    model_config = ConfigDict(extra="allow")

    installation: EggInstallation = Field(default_factory=EggInstallation)


class EggConfig(BaseModel):
    """How the server inside behaves: its stop command, when it counts as started, its config files."""

    model_config = ConfigDict(extra="allow")

    stop: str | None = ""
    startup: str | dict[str, Any] | None = None
    files: str | dict[str, Any] | None = None
    logs: str | dict[str, Any] | list[Any] | None = None


class EggMeta(BaseModel):
    """The format marker."""

    model_config = ConfigDict(extra="allow")

    version: Literal["PTDL_v1", "PTDL_v2"]


class EggDocument(BaseModel):
    """A Pterodactyl egg file, as exported by Pterodactyl; unknown keys are kept."""

    model_config = ConfigDict(extra="allow")

    meta: EggMeta
    name: str = Field(min_length=1, max_length=200)
    author: str | None = ""
    description: str | None = ""
    docker_images: dict[str, str] = Field(default_factory=dict)
    startup: str = Field(min_length=1, max_length=10_000)
    config: EggConfig = Field(default_factory=EggConfig)
    scripts: EggScripts = Field(default_factory=EggScripts)
    variables: list[EggVariable] = Field(default_factory=list, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _v1_images(cls, data: Any) -> Any:
        """PTDL_v1 lists `images` (or one `image`); v2 names them in `docker_images`."""
        if isinstance(data, dict) and not data.get("docker_images"):
            images = data.get("images") or ([data["image"]] if data.get("image") else [])
            if isinstance(images, list) and all(isinstance(image, str) for image in images):
                data = {**data, "docker_images": {image: image for image in images}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> EggDocument:
        if not self.docker_images:
            raise ValueError("docker_images must name at least one image")
        names = [variable.env_variable for variable in self.variables]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"variables repeat env_variable {', '.join(duplicates)}")
        return self

    @property
    def images(self) -> list[str]:
        """The images a container of this egg may use, the first being the default."""
        return list(self.docker_images.values())

    def install_spec(self) -> InstallSpec | None:
        """The install step, or None when the egg has no script."""
        installation = self.scripts.installation
        script = (installation.script or "").replace("\r\n", "\n")
        if not script.strip():
            return None
        return InstallSpec(image=installation.container or self.images[0], entrypoint=installation.entrypoint, script=script)

    def stop_spec(self, timeout: float) -> StopSpec:
        """Pterodactyl's stop value: `^C` (and `^X`-style) means a signal, anything else is typed into stdin."""
        stop = (self.config.stop or "").strip()
        if not stop:
            return StopSpec(signal="SIGTERM", timeout=timeout)
        if stop.startswith("^"):
            return StopSpec(signal="SIGINT" if stop.upper() == "^C" else "SIGTERM", timeout=timeout)
        return StopSpec(command=stop, timeout=timeout)


def _stored(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get(_STORED))


def read_document(raw: object) -> EggDocument:
    """Validate an egg file being imported; 422 naming each bad field (with its path in the file)."""
    return _read(raw, stored=False)


def read_stored(raw: object) -> EggDocument:
    """The typed view of a stored egg, which passed `read_document` when imported.

    Rules and names that a newer version refuses at import do not make the egg unreadable (its list,
    its export, its deletion keep working): a refused rule is reported when a container would use it,
    and a reserved name never reaches a container (built-ins win).
    """
    return _read(raw, stored=True)


def _read(raw: object, *, stored: bool) -> EggDocument:
    if not isinstance(raw, dict):
        raise UnprocessableEntity("An egg is a JSON object (a Pterodactyl PTDL_v2 export).")
    try:
        return EggDocument.model_validate(raw, context={_STORED: stored})
    except ValidationError as exc:
        errors = [
            FieldError(
                loc=["body", *[part for part in error["loc"] if isinstance(part, (str, int))]],
                msg=error["msg"],
                type=error["type"],
            )
            for error in exc.errors()
        ]
        where = ", ".join(".".join(str(part) for part in error.loc[1:]) or "body" for error in errors)
        why = "; ".join(error.msg for error in errors[:3])
        raise UnprocessableEntity(f"This is not a usable Pterodactyl egg; check: {where} ({why}).", errors=errors) from None


def as_env_value(value: object) -> str:
    """How a JSON value becomes an environment string (booleans as 1/0, as Pterodactyl does)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def resolve_environment(document: EggDocument, requested: dict[str, str]) -> dict[str, str]:
    """The container's variables: defaults, overridden by what the user set; every value checked against its rules.

    A variable the egg does not declare, or one it does not let users edit, is refused (422) rather
    than silently dropped. Every violation is reported at once, naming the variable and the rule.
    """
    declared = {variable.env_variable: variable for variable in document.variables}
    errors: list[FieldError] = []
    for name in requested:
        variable = declared.get(name)
        if variable is None:
            errors.append(
                FieldError(
                    loc=["body", "environment", name], msg=f"{name}: this egg has no such variable", type="egg_rule.unknown"
                )
            )
        elif not variable.user_editable:
            errors.append(
                FieldError(
                    loc=["body", "environment", name], msg=f"{name}: this variable cannot be changed", type="egg_rule.read_only"
                )
            )
    environment: dict[str, str] = {}
    for name, variable in declared.items():
        if is_reserved(name):
            continue  # an egg stored before these names were refused: the built-in wins, the variable is not passed
        value = requested.get(name, variable.default) if variable.user_editable else variable.default
        try:
            parsed = variable.parsed_rules
        except rule_engine.RuleError as exc:
            errors.append(
                FieldError(
                    loc=["body", "environment", name],
                    msg=f"{name}: the egg's rule cannot be checked ({exc}); ask an administrator to fix and re-import the egg",
                    type="egg_rule.unusable",
                )
            )
            continue
        violation = rule_engine.check(value, parsed)
        if violation is not None:
            errors.append(
                FieldError(
                    loc=["body", "environment", name],
                    msg=f"{name} {violation.message} (rule {violation.rule})",
                    type=f"egg_rule.{violation.rule.partition(':')[0]}",
                )
            )
        environment[name] = value
    if errors:
        raise UnprocessableEntity("; ".join(error.msg for error in errors) + ".", errors=errors)
    return environment


def render_startup(template: str, environment: dict[str, str], builtins: dict[str, str]) -> str:
    """Substitute `{{VARIABLE}}` (and `{{env.VARIABLE}}`, and the built-ins such as `{{SERVER_PORT}}`) in one pass.

    A placeholder nobody defines stays as written, as in Pterodactyl; a value is never re-scanned, so a
    value that contains `{{...}}` is not expanded again. The built-ins win over a variable of the same name.
    """
    known = {**environment, **_legacy(builtins), **builtins}
    return _PLACEHOLDER.sub(lambda match: known.get(match.group(1), match.group(0)), template)


def _legacy(builtins: dict[str, str]) -> dict[str, str]:
    """Pterodactyl's older `{{server.build.*}}` names for the built-ins."""
    return {
        "server.build.default.port": builtins.get("SERVER_PORT", ""),
        "server.build.default.ip": builtins.get("SERVER_IP", ""),
        "server.build.memory": builtins.get("SERVER_MEMORY", ""),
    }


def document_schema() -> dict[str, Any]:
    """The egg file's JSON schema with its definitions inlined (an OpenAPI operation cannot hold `$defs` refs)."""
    schema = EggDocument.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return inline(definitions[reference.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


def dumps(document: dict[str, Any]) -> str:
    """The egg file as stored, for export."""
    return json.dumps(document, indent=4, ensure_ascii=False)
