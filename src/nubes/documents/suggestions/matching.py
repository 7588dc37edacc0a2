"""Matching rules: does a document's text match a term's `match` text, and by which words.

Paperless' algorithms: `any` word, `all` words, an `exact` phrase, a `regex` (RE2: linear time, so no pattern can
stall the worker), and `fuzzy` (a phrase found with small differences, such as OCR errors). Every match names the
words that made it, which is what a suggestion shows as its reason.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import re2

ALGORITHMS = ("none", "any", "all", "exact", "regex", "fuzzy")
FUZZY_RATIO = 0.85
"""How close a run of words must be to a fuzzy phrase (difflib's ratio, 1.0 = identical)."""
MAX_WORDS = 10
"""Matched words kept in a reason."""
FUZZY_WORDS = 50_000
"""Words of a long text a fuzzy rule looks through (the first ones: a letter's head names who it is from)."""
_WORD = re.compile(r"\w+", re.UNICODE)


class BadRule(ValueError):
    """A rule that cannot be used (a regex RE2 refuses); the message says why."""


@dataclass(frozen=True, slots=True)
class Match:
    words: list[str]
    confidence: float
    rule: str


def _options(case_sensitive: bool) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    return options


def check(matching: str, match: str, case_sensitive: bool) -> None:
    """Raise BadRule for a rule that could never run (a regex RE2 cannot compile, a rule without words)."""
    if matching == "none":
        return
    if not match.strip():
        raise BadRule(f"A {matching!r} rule needs something to match.")
    if matching == "regex":
        try:
            re2.compile(match, _options(case_sensitive))
        except re2.error as exc:
            raise BadRule(f"The regular expression cannot be used: {exc}.") from None


class Text:
    """A document's text, prepared once for every rule of every term."""

    def __init__(self, text: str) -> None:
        self.raw = text
        self.words = _WORD.findall(text)
        self.lower_words = [word.lower() for word in self.words]
        self._sets = {True: set(self.words), False: set(self.lower_words)}

    def has(self, word: str, case_sensitive: bool) -> bool:
        return (word if case_sensitive else word.lower()) in self._sets[case_sensitive]

    def runs(self, length: int, case_sensitive: bool, *, limit: int | None = None) -> list[str]:
        words = (self.words if case_sensitive else self.lower_words)[:limit]
        return [" ".join(words[index : index + length]) for index in range(max(len(words) - length + 1, 0))]


def match(text: Text, matching: str, rule: str, case_sensitive: bool) -> Match | None:  # noqa: PLR0911 - one return per algorithm
    """Whether `text` matches the rule, with the words that did."""
    if matching == "none" or not rule.strip():
        return None
    label = f"{matching}: {rule}"
    if matching in {"any", "all"}:
        wanted = _WORD.findall(rule)
        found = [word for word in wanted if text.has(word, case_sensitive)]
        if not found or (matching == "all" and len(found) < len(wanted)):
            return None
        confidence = 0.9 if matching == "all" else min(0.5 + 0.15 * len(found), 0.85)
        return Match(found[:MAX_WORDS], confidence, label)
    if matching == "exact":
        phrase = " ".join(_WORD.findall(rule))
        if phrase and (phrase if case_sensitive else phrase.lower()) in text.runs(len(phrase.split()), case_sensitive):
            return Match([phrase], 0.95, label)
        return None
    if matching == "regex":
        try:
            pattern = re2.compile(rule, _options(case_sensitive))
        except re2.error:
            return None  # refused when saved; a rule from before that check matches nothing
        found = [hit.group(0) for _, hit in zip(range(MAX_WORDS), pattern.finditer(text.raw), strict=False)]
        return Match(found, 0.9, label) if found else None
    if matching == "fuzzy":
        phrase = " ".join(_WORD.findall(rule if case_sensitive else rule.lower()))
        size = len(phrase.split())
        best = max(
            (
                (difflib.SequenceMatcher(None, phrase, run).ratio(), run)
                for run in text.runs(size, case_sensitive, limit=FUZZY_WORDS)
            ),
            default=(0.0, ""),
        )
        return Match([best[1]], round(0.6 + 0.3 * best[0], 3), label) if best[0] >= FUZZY_RATIO else None
    return None
