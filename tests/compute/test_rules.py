"""The Laravel rule engine of egg variables: parsing, Laravel's meaning of each rule, and hostile values."""

from __future__ import annotations

import pytest

from nubes.compute.rules import MAX_VALUE_LENGTH, RuleError, check, parse


def _broken(value: str | None, rules: str) -> str | None:
    """The rule `value` breaks, or None."""
    violation = check(value, parse(rules))
    return violation.rule if violation else None


@pytest.mark.parametrize(
    ("value", "rules", "broken"),
    [
        ("hello", "required|string|max:20", None),
        ("", "required|string|max:20", "required"),
        (None, "required|string", "required"),
        ("x" * 21, "required|string|max:20", "max:20"),
        ("x" * 20, "required|string|max:20", None),
        ("", "nullable|string|max:20", None),
        ("", "string|max:20", None),  # empty and not required: passes, as in Laravel
        ("50", "nullable|integer|between:1,100", None),
        ("1", "nullable|integer|between:1,100", None),
        ("100", "nullable|integer|between:1,100", None),
        ("0", "nullable|integer|between:1,100", "between:1,100"),
        ("101", "nullable|integer|between:1,100", "between:1,100"),
        ("5.5", "nullable|integer|between:1,100", "integer"),
        ("abc", "nullable|integer|between:1,100", "integer"),
        ("1e3", "integer", "integer"),
        ("007", "integer", "integer"),
        ("-5", "integer", None),
        ("+5", "integer", None),
        ("99999999999999999999", "integer", "integer"),  # beyond 64 bits, like PHP's filter_var
        (" 5", "integer", "integer"),
        ("1.5", "numeric|min:1", None),
        ("0.5", "numeric|min:1", "min:1"),
        ("1e3", "numeric|max:1000", None),
        ("1_000", "numeric", "numeric"),  # Python's float() would take it; PHP's is_numeric does not
        ("NaN", "numeric", "numeric"),
        ("inf", "numeric", "numeric"),
        ("0x1A", "numeric", "numeric"),
        ("12345", "string|max:4", "max:4"),  # a string: its length, not its value
        ("12345", "numeric|max:4", "max:4"),
        ("3", "numeric|max:4", None),
        ("1", "boolean", None),
        ("0", "boolean", None),
        ("true", "boolean", None),
        ("yes", "boolean", "boolean"),
        ("paper", "required|in:paper,vanilla,forge", None),
        ("bukkit", "required|in:paper,vanilla,forge", "in:paper,vanilla,forge"),
        ("paper", "not_in:paper,vanilla", "not_in:paper,vanilla"),
        ("a,b", 'in:"a,b",c', None),  # in: reads its list as CSV, quotes included
        ("server.jar", r"required|regex:/^([\w\d._-]+)(\.jar)$/", None),
        ("server.zip", r"required|regex:/^([\w\d._-]+)(\.jar)$/", r"regex:/^([\w\d._-]+)(\.jar)$/"),
        ("../../etc/passwd.jar", r"required|regex:/^([\w\d._-]+)(\.jar)$/", r"regex:/^([\w\d._-]+)(\.jar)$/"),
        ("latest", "required|regex:/^(latest|[0-9.]+)$/|max:10", None),  # a | inside the pattern is not a separator
        ("1.20.4", "required|regex:/^(latest|[0-9.]+)$/|max:10", None),
        ("1.20.4-rc1", "required|regex:/^(latest|[0-9.]+)$/|max:10", "regex:/^(latest|[0-9.]+)$/"),
        ("LATEST", "regex:/^latest$/i", None),
        ("ok", "not_regex:/[;&|`$]/", None),
        ("x; rm -rf /", "not_regex:/[;&|`$]/", "not_regex:/[;&|`$]/"),
        ("abc", "alpha", None),
        ("ab1", "alpha", "alpha"),
        ("ab1", "alpha_num", None),
        ("ab-1_c", "alpha_dash", None),
        ("ab 1", "alpha_dash", "alpha_dash"),
        ("https://example.org/x", "url", None),
        ("javascript:alert(1)", "url", "url"),
        ("192.0.2.1", "ip", None),
        ("192.0.2.1", "ipv6", "ipv6"),
        ("::1", "ipv6", None),
        ("256.0.0.1", "ipv4", "ipv4"),
        ("1234", "digits:4", None),
        ("123", "digits:4", "digits:4"),
        ("١٢٣٤", "digits:4", "digits:4"),  # Arabic-Indic digits are not ASCII digits
        ("12", "digits_between:1,3", None),
        ("abcd", "size:4", None),
        ("abc", "size:4", "size:4"),
        ("Paper", "starts_with:Pa,Fo", None),
        ("Vanilla", "starts_with:Pa,Fo", "starts_with:Pa,Fo"),
        ("a@b.example", "email", None),
        ("not an email", "email", "email"),
        ("abc", "lowercase", None),
        ("aBc", "lowercase", "lowercase"),
    ],
)
def test_rule_meaning(value: str | None, rules: str, broken: str | None) -> None:
    assert _broken(value, rules) == broken


def test_the_first_broken_rule_is_reported_with_a_message() -> None:
    violation = check("x" * 30, parse("required|string|max:20|alpha"))
    assert violation is not None
    assert violation.rule == "max:20"
    assert violation.message == "must be at most 20 characters"


def test_numeric_sizes_speak_of_numbers() -> None:
    violation = check("500", parse("integer|between:1,100"))
    assert violation is not None
    assert violation.message == "must be between 1 and 100"


def test_a_list_of_rules_works_like_the_string() -> None:
    assert check("x" * 21, parse(["required", "string", "max:20"])) is not None
    assert check("ok", parse(["required", "regex:/^(a|ok)$/"])) is None


def test_hostile_values_are_bounded_not_crashing() -> None:
    assert _broken("x" * (MAX_VALUE_LENGTH + 1), "string") == "max"
    assert _broken("\u202e\u0000", "alpha") == "alpha"
    assert _broken("💥" * 5, "string|max:5") is None  # characters, not bytes
    assert _broken("💥" * 6, "string|max:5") == "max:5"
    assert _broken("1" * 400, "numeric|max:100") == "max:100"  # a huge number is just large, not an error


@pytest.mark.parametrize(
    "rules",
    [
        "required|frobnicate",  # unknown rule
        "max",  # missing argument
        "max:abc",  # not a number
        "between:1",  # one argument short
        "in:",  # empty list
        "regex:^no-delimiters$",
        "regex:/(unclosed/",
        "regex:/ok/z",  # unknown flag
        "exists:users,id",  # a database rule makes no sense for an egg and is not implemented
    ],
)
def test_unusable_rules_are_refused_when_parsed(rules: str) -> None:
    with pytest.raises(RuleError):
        parse(rules)


def test_spaces_and_case_in_rule_names_are_tolerated() -> None:
    assert _broken("", " Required | string ") == "required"
