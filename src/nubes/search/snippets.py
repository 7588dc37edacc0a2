"""Snippets: the few words of a text around what a query matched, with the matched words marked.

Made here for the page's hits on both engines, from the text the entry holds: SQLite's `snippet()` and PostgreSQL's
`ts_headline` re-run the whole query for each row (FTS5 reads the word's full list of documents again for every
row, 12 ms a row for a word in every document), and two engines marking differently would show differently.
Words are compared as the engines' tokenizers compare them: letters and digits, case and diacritics folded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from nubes.search.query import Term

OPEN, CLOSE = "\u0002", "\u0003"
"""Marks around each matched word (control characters no text of the index holds); the API turns them into a list
of plain and matched parts, so no markup is ever built from document text."""

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_SCANNED = 200_000
"""Characters of a text looked at for a snippet (a long text's first matches are enough to show)."""


def fold(word: str) -> str:
    """A word as the index holds it: lower case, without diacritics (é → e), as FTS5's `remove_diacritics 2`."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _matched(tokens: Sequence[str], terms: Sequence[Term]) -> list[int]:
    """For each token, the number of the term it belongs to (a word, a prefix, or part of a phrase), or -1."""
    hits = [-1] * len(tokens)
    for number, term in enumerate(terms):
        words = [fold(word) for word in term.words]
        first, size = words[0], len(words)
        for start, token in enumerate(tokens):
            if size == 1:
                found = token.startswith(first) if term.prefix else token == first
            else:
                window = tokens[start : start + size]
                found = len(window) == size and window[:-1] == words[:-1]
                found = found and (window[-1].startswith(words[-1]) if term.prefix else window[-1] == words[-1])
            if found:
                hits[start : start + size] = [number] * size
    return hits


def _best_window(hits: Sequence[int], words: int) -> int:
    """The first start of the `words`-token window holding the most different terms, then the most matches."""
    counts: dict[int, int] = {}
    matches, best, best_score = 0, 0, (-1, -1)
    for index, hit in enumerate(hits):
        if hit >= 0:
            counts[hit] = counts.get(hit, 0) + 1
            matches += 1
        leaving = index - words
        if leaving >= 0 and hits[leaving] >= 0:
            counts[hits[leaving]] -= 1
            if not counts[hits[leaving]]:
                del counts[hits[leaving]]
            matches -= 1
        start = max(0, index - words + 1)
        score = (len(counts), matches)
        if score > best_score:
            best, best_score = start, score
    return best


def make(text: str, terms: Sequence[Term], *, words: int = 16) -> str:
    """The window of `words` words of `text` holding the most different terms (the first such), matches marked;
    `…` where the text goes on. The text's start when nothing matches."""
    spans = [(match.start(), match.end()) for match in _WORD.finditer(text[:MAX_SCANNED])]
    if not spans:
        return ""
    hits = _matched([fold(text[start:end]) for start, end in spans], terms)
    best = _best_window(hits, words)
    # Start two words before the window's first match (read in its context) when its last match still fits.
    matched = [index for index in range(best, min(best + words, len(hits))) if hits[index] >= 0]
    if matched and best <= matched[0] - 2 and matched[-1] < matched[0] - 2 + words:
        best = matched[0] - 2
    end = min(len(spans), best + words)
    parts = ["…" if best > 0 else ""]
    cursor = spans[best][0]
    for index in range(best, end):
        start, stop = spans[index]
        parts.append(text[cursor:start])
        parts.append(f"{OPEN}{text[start:stop]}{CLOSE}" if hits[index] >= 0 else text[start:stop])
        cursor = stop
    parts.append("…" if end < len(spans) or len(text) > MAX_SCANNED else text[cursor:])
    return " ".join("".join(parts).split())
