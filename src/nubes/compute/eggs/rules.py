"""Laravel-style validation rules of egg variables (`required|string|max:20`), parsed once, checked on every value.

Eggs from the Pterodactyl community state their variables' rules in Laravel's syntax; this module
implements the rules those eggs use with Laravel's meaning (sizes are string lengths unless a
`numeric`/`integer` rule makes them numbers; an empty value passes unless `required`). An unknown
rule is refused when the egg is imported, so a value is never waved through by a rule nobody checks.

Every pattern, the egg's `regex:` rules and the built-in ones alike, runs in RE2, whose time is linear
in the value's length: no pattern and value can stall the server (a backtracking engine takes
exponential time on `regex:/(a+)+$/` and `aaaa...!`). RE2 lacks the few PCRE features that need
backtracking (look-ahead and look-behind, back-references, atomic groups, possessive quantifiers,
conditionals, recursion, `\\Z`, the `x` flag): a rule using one is refused at import, naming the feature,
rather than run in a slower engine.
"""

from __future__ import annotations

import csv
import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import re2

MAX_VALUE_LENGTH = 4096
# RE2's time is linear in the value times the pattern's program; real egg patterns compile to under 400
# instructions, and this bound keeps the worst value-and-pattern pair to milliseconds.
MAX_PROGRAM_SIZE = 4000
_INT64 = 2**63


class Pattern(Protocol):
    """A compiled RE2 pattern (google-re2 ships no type information)."""

    programsize: int

    def search(self, text: str) -> object | None: ...

    def fullmatch(self, text: str) -> object | None: ...


def _options() -> object:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the user's mistake, reported in the 422; not worth a log line
    # Rules only ask whether a value matches: without groups to extract, RE2 answers from its DFA, in one pass
    # (extracting them can take the slower NFA, 100 times slower on some patterns).
    options.never_capture = True
    return options


_OPTIONS = _options()


def _compile(source: str) -> Pattern:
    compiled: Pattern = re2.compile(source, _OPTIONS)
    return compiled


_INTEGER = _compile(r"[+-]?(?:0|[1-9][0-9]*)")
_NUMERIC = _compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_EMAIL = _compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RuleError(ValueError):
    """A rule string that cannot be used: unknown rule, missing or malformed argument, bad regex."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One parsed rule: its name and arguments (`between:1,100` -> `between`, ("1", "100"))."""

    name: str
    args: tuple[str, ...] = ()
    pattern: Pattern | None = None

    @property
    def text(self) -> str:
        """The rule as written in the egg."""
        return f"{self.name}:{','.join(self.args)}" if self.args else self.name


@dataclass(frozen=True, slots=True)
class Violation:
    """A value broke a rule: which rule, and what to tell the user."""

    rule: str
    message: str


# Rules that take no argument, the number of arguments of the others (None: one or more).
_ARITY: dict[str, int | None] = {
    "required": 0,
    "nullable": 0,
    "sometimes": 0,
    "present": 0,
    "filled": 0,
    "bail": 0,
    "string": 0,
    "integer": 0,
    "int": 0,
    "numeric": 0,
    "boolean": 0,
    "bool": 0,
    "alpha": 0,
    "alpha_num": 0,
    "alpha_dash": 0,
    "url": 0,
    "ip": 0,
    "ipv4": 0,
    "ipv6": 0,
    "email": 0,
    "lowercase": 0,
    "uppercase": 0,
    "max": 1,
    "min": 1,
    "size": 1,
    "digits": 1,
    "between": 2,
    "digits_between": 2,
    "in": None,
    "not_in": None,
    "starts_with": None,
    "ends_with": None,
    "regex": 1,
    "not_regex": 1,
}
_NUMBER_ARGS = {"max", "min", "size", "between", "digits", "digits_between"}
# PHP's flags as RE2 inline flags; `u` (UTF-8) is RE2's own mode, `D` ($ only at the very end) its default.
_PHP_FLAGS = {"i": "i", "m": "m", "s": "s", "u": "", "D": ""}
# What RE2 says about a PCRE feature it lacks, and that feature's name for the user.
_UNSUPPORTED = (
    ("invalid perl operator: (?=", "a look-ahead (?=...)"),
    ("invalid perl operator: (?!", "a negative look-ahead (?!...)"),
    ("invalid perl operator: (?<=", "a look-behind (?<=...)"),
    ("invalid perl operator: (?<!", "a negative look-behind (?<!...)"),
    ("invalid perl operator: (?>", "an atomic group (?>...)"),
    ("invalid perl operator: (?(", "a conditional (?(...)...)"),
    ("invalid perl operator: (?R", "recursion (?R)"),
    ("invalid perl operator: (?P=", "a named back-reference (?P=...)"),
    ("invalid perl operator: (?x", "the x (extended) flag"),
    ("invalid escape sequence: \\k", "a named back-reference \\k<...>"),
    ("invalid escape sequence: \\Z", "\\Z (use $ or \\z)"),
    ("invalid escape sequence: \\G", "\\G"),
    ("bad repetition operator: ++", "a possessive quantifier ++"),
    ("bad repetition operator: *+", "a possessive quantifier *+"),
    ("bad repetition operator: ?+", "a possessive quantifier ?+"),
)
_DELIMITERS = {"/": "/", "#": "#", "~": "~", "!": "!", "@": "@", "%": "%", "+": "+", "{": "}", "(": ")", "[": "]"}


def _split(text: str) -> list[str]:
    """Split on `|`, except inside a `regex:`/`not_regex:` pattern (`regex:/^(a|b)$/|max:5`)."""
    parts: list[str] = []
    position = 0
    while position < len(text):
        rest = text[position:]
        if rest.startswith(("regex:", "not_regex:")):
            start = position + rest.index(":") + 1
            end = _regex_end(text, start)
            parts.append(text[position:end])
            position = end + 1
            continue
        end = text.find("|", position)
        end = len(text) if end < 0 else end
        parts.append(text[position:end])
        position = end + 1
    return [part.strip() for part in parts if part.strip()]


def _regex_end(text: str, start: int) -> int:
    """Where a PHP regex beginning at `start` ends (after its closing delimiter and flags)."""
    if start >= len(text) or text[start] not in _DELIMITERS:
        end = text.find("|", start)
        return len(text) if end < 0 else end
    closing = _DELIMITERS[text[start]]
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == closing:
            flags_end = index + 1
            while flags_end < len(text) and text[flags_end].isalpha():
                flags_end += 1
            if flags_end == len(text) or text[flags_end] == "|":
                return flags_end
        index += 1
    return len(text)


def _compile_php_regex(source: str) -> Pattern:
    """A PCRE pattern in PHP's `/pattern/flags` form, compiled by RE2 (linear time); RuleError names what RE2 lacks."""
    if len(source) < 2 or source[0] not in _DELIMITERS:
        raise RuleError(f"regex:{source} needs delimiters, like regex:/^[a-z]+$/")
    closing = _DELIMITERS[source[0]]
    end = source.rfind(closing)
    if end <= 0:
        raise RuleError(f"regex:{source} has no closing {closing}")
    body, flag_text = source[1:end], source[end + 1 :]
    flags = ""
    for flag in flag_text:
        if flag == "x":
            raise RuleError(f"regex:{source} uses the x (extended) flag, which Nubes does not support; remove it")
        if flag not in _PHP_FLAGS:
            raise RuleError(f"regex:{source} uses the flag {flag!r}, which is not supported")
        flags += _PHP_FLAGS[flag]
    try:
        compiled = _compile(f"(?{flags}){body}" if flags else body)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RuleError(_refusal(source, reason)) from None
    if compiled.programsize > MAX_PROGRAM_SIZE:
        raise RuleError(
            f"regex:{source} is too large ({compiled.programsize} RE2 instructions, at most {MAX_PROGRAM_SIZE}); "
            "use smaller repetition counts"
        )
    return compiled


def _refusal(source: str, reason: str) -> str:
    """Why a pattern is refused: the PCRE feature RE2 lacks, or RE2's own words."""
    if reason.startswith("invalid escape sequence: \\") and reason[-1:].isdigit():
        feature = "a back-reference (\\1 ...)"
    else:
        feature = next((name for prefix, name in _UNSUPPORTED if reason.startswith(prefix)), "")
    if feature:
        return (
            f"regex:{source} uses {feature}, which Nubes does not run: patterns run in a linear-time engine "
            "(RE2 syntax) so that no value can stall the server; rewrite the pattern without it"
        )
    return f"regex:{source} does not compile: {reason}"


def parse(rules: str | list[str]) -> tuple[Rule, ...]:
    """Parse a Laravel rule string or list; `RuleError` says which rule is wrong."""
    items = _split(rules) if isinstance(rules, str) else [item.strip() for item in rules if item.strip()]
    return _parse_items(tuple(items))


@functools.lru_cache(maxsize=1024)
def _parse_items(items: tuple[str, ...]) -> tuple[Rule, ...]:
    """The parsed rules, cached: an egg's rules are read on every container creation, patterns compiled once."""
    parsed: list[Rule] = []
    for item in items:
        name, _, argument = item.partition(":")
        name = name.strip().lower()
        if name not in _ARITY:
            raise RuleError(f"unknown rule {name!r}")
        if name in {"regex", "not_regex"}:
            parsed.append(Rule(name, (argument,), _compile_php_regex(argument)))
            continue
        args = tuple(next(csv.reader([argument]))) if argument else ()
        arity = _ARITY[name]
        if (arity is None and not args) or (arity is not None and len(args) != arity):
            wanted = "one or more values" if arity is None else f"{arity} argument(s)"
            raise RuleError(f"rule {name!r} takes {wanted}, got {item!r}")
        if name in _NUMBER_ARGS:
            for arg in args:
                if not _NUMERIC.fullmatch(arg):
                    raise RuleError(f"rule {item!r} needs numbers")
        parsed.append(Rule(name, args))
    return tuple(parsed)


def _is_numeric(value: str) -> bool:
    return bool(_NUMERIC.fullmatch(value))


def _is_integer(value: str) -> bool:
    return bool(_INTEGER.fullmatch(value)) and -_INT64 <= int(value) < _INT64


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https", "ftp", "ftps"} and bool(parts.netloc) and " " not in value


def _is_ip(value: str, version: int | None = None) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version is None or address.version == version


_TYPE_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "integer": (_is_integer, "must be an integer"),
    "int": (_is_integer, "must be an integer"),
    "numeric": (_is_numeric, "must be a number"),
    "boolean": (lambda v: v in {"0", "1", "true", "false"}, "must be true or false (1 or 0)"),
    "bool": (lambda v: v in {"0", "1", "true", "false"}, "must be true or false (1 or 0)"),
    "alpha": (lambda v: v.isalpha(), "may contain only letters"),
    "alpha_num": (lambda v: v.isalnum(), "may contain only letters and digits"),
    "alpha_dash": (lambda v: all(c.isalnum() or c in "-_" for c in v), "may contain only letters, digits, - and _"),
    "url": (_is_url, "must be a URL (http, https, ftp)"),
    "ip": (_is_ip, "must be an IP address"),
    "ipv4": (lambda v: _is_ip(v, 4), "must be an IPv4 address"),
    "ipv6": (lambda v: _is_ip(v, 6), "must be an IPv6 address"),
    "email": (lambda v: bool(_EMAIL.fullmatch(v)), "must be an email address"),
    "lowercase": (lambda v: v == v.lower(), "must be lower case"),
    "uppercase": (lambda v: v == v.upper(), "must be upper case"),
}


def _size(value: str, numeric: bool) -> float:
    """Laravel's size: the number itself under a numeric rule, else the length in characters."""
    return float(value) if numeric and _is_numeric(value) else float(len(value))


def _unit(numeric: bool) -> str:
    return "" if numeric else " characters"


def _fmt(number: str) -> str:
    as_float = float(number)
    return str(int(as_float)) if as_float.is_integer() else str(as_float)


def check(value: str | None, rules: tuple[Rule, ...]) -> Violation | None:
    """The first rule `value` breaks, or None when it passes them all."""
    names = {rule.name for rule in rules}
    if value is None or value == "":
        if "required" in names or "filled" in names:
            rule = next(r for r in rules if r.name in {"required", "filled"})
            return Violation(rule.text, "is required")
        return None
    if len(value) > MAX_VALUE_LENGTH:
        return Violation("max", f"must be at most {MAX_VALUE_LENGTH} characters")
    numeric = bool(names & {"numeric", "integer", "int"})
    for rule in rules:
        violation = _check_one(value, rule, numeric)
        if violation is not None:
            return Violation(rule.text, violation)
    return None


def _check_one(value: str, rule: Rule, numeric: bool) -> str | None:  # noqa: PLR0911, PLR0912
    name, args = rule.name, rule.args
    if name in _TYPE_CHECKS:
        test, message = _TYPE_CHECKS[name]
        return None if test(value) else message
    if name in {"max", "min", "size", "between"}:
        if numeric and not _is_numeric(value):
            return None  # the numeric/integer rule reports it
        size = _size(value, numeric)
        unit = _unit(numeric)
        if name == "max" and size > float(args[0]):
            return f"must be at most {_fmt(args[0])}{unit}"
        if name == "min" and size < float(args[0]):
            return f"must be at least {_fmt(args[0])}{unit}"
        if name == "size" and size != float(args[0]):
            return f"must be exactly {_fmt(args[0])}{unit}"
        if name == "between" and not float(args[0]) <= size <= float(args[1]):
            return f"must be between {_fmt(args[0])} and {_fmt(args[1])}{unit}"
        return None
    if name in {"digits", "digits_between"}:
        if not value.isascii() or not value.isdigit():
            return "must contain only digits"
        if name == "digits" and len(value) != int(float(args[0])):
            return f"must be {_fmt(args[0])} digits"
        if name == "digits_between" and not float(args[0]) <= len(value) <= float(args[1]):
            return f"must have between {_fmt(args[0])} and {_fmt(args[1])} digits"
        return None
    if name == "in":
        return None if value in args else f"must be one of: {', '.join(args)}"
    if name == "not_in":
        return f"must not be one of: {', '.join(args)}" if value in args else None
    if name == "starts_with":
        return None if value.startswith(args) else f"must start with one of: {', '.join(args)}"
    if name == "ends_with":
        return None if value.endswith(args) else f"must end with one of: {', '.join(args)}"
    if name in {"regex", "not_regex"} and rule.pattern is not None:
        found = rule.pattern.search(value) is not None
        if name == "regex" and not found:
            return f"does not match the pattern {args[0]}"
        if name == "not_regex" and found:
            return f"must not match the pattern {args[0]}"
        return None
    return None  # required, nullable, string, sometimes, bail...: nothing more to check on a non-empty string
