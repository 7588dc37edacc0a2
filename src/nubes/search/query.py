"""The search box's syntax, parsed once into what both engines' full-text queries are built from.

`invoice acme` finds both words (in any order), `"net salary"` the phrase, `inv*` words that start with `inv`,
and `tag:paid`, `type:invoice`, `correspondent:acme`, `year:2026` narrow by metadata. Only letters and digits
reach the engines' query languages: every other character separates words, so no input (`"`, `*`, `NEAR`, `'--`,
`:`, parentheses) can change the query's structure or fail it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FIELDS = ("tag", "type", "correspondent", "year")
MAX_TERMS = 12
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r'(\w+):("[^"]*"|\S+)|"([^"]*)"?|(\S+)', re.UNICODE)


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]  # several: a phrase
    prefix: bool = False


@dataclass(slots=True)
class Parsed:
    terms: list[Term] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    kind: str | None = None  # only documents' entries, or only plain files' (set by the caller, not the syntax)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.filters


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]  # as both engines' tokenizers fold case (not casefold: ß)


def parse(text: str) -> Parsed:
    """The terms and filters of a query (at most MAX_TERMS terms; unknown `field:` prefixes are plain words)."""
    parsed = Parsed()
    for match in _TOKEN.finditer(text):
        name, value, phrase, bare = match.groups()
        if name is not None and name.casefold() in FIELDS:
            parsed.filters.setdefault(name.casefold(), []).append(value.strip('"'))
            continue
        if phrase is not None:
            words = _words(phrase)
            if words:
                parsed.terms.append(Term(tuple(words)))
            continue
        raw = bare if bare is not None else f"{name}:{value}"
        prefix = raw.endswith("*")
        words = _words(raw)
        for index, word in enumerate(words):
            parsed.terms.append(Term((word,), prefix=prefix and index == len(words) - 1))
    parsed.terms = parsed.terms[:MAX_TERMS]
    return parsed


def fts5(parsed: Parsed) -> str:
    """An FTS5 MATCH expression: every term quoted (a phrase, or a prefix with `*`), all of them required."""
    parts = []
    for term in parsed.terms:
        quoted = '"' + " ".join(term.words) + '"'
        parts.append(quoted + ("*" if term.prefix else ""))
    return " AND ".join(parts)


def tsquery(parsed: Parsed) -> str:
    """A PostgreSQL `to_tsquery('simple', …)` text: words joined with &, phrases with <->, prefixes with :*."""
    parts = []
    for term in parsed.terms:
        words = [f"'{word}'" for word in term.words]
        part = " <-> ".join(words)
        parts.append(part + (":*" if term.prefix else "") if len(words) == 1 else f"({part})")
    return " & ".join(parts)
