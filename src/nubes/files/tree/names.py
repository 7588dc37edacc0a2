"""File and folder names: what is allowed, how clashes are judged, what to suggest instead, search terms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

# The rules of a name live in core, shared with a container's volume; re-exported for this domain's modules.
from nubes.core.names import MAX_NAME_BYTES, BadName, normalize

__all__ = [
    "MAX_NAME_BYTES",
    "MAX_TERM_CHARS",
    "BadName",
    "clash_key",
    "free_name",
    "normalize",
    "query_words",
    "terms",
    "windows_problem",
]

_WORDS = re.compile(r"[\W_]+")
MAX_TERM_CHARS = 255


def clash_key(name: str) -> str:
    """What two names are compared on: NFC and case-folded, so `Café`, `Cafe\u0301` and `CAFÉ` clash."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def free_name(name: str, taken: Collection[str]) -> str:
    """`name` if its clash key is not in `taken`, else `stem (2).ext`, `stem (3).ext`, ... within 255 bytes."""
    if clash_key(name) not in taken:
        return name
    stem, dot, extension = name.rpartition(".")
    if not stem:  # no extension, or a dot-file such as `.env`
        stem, dot, extension = name, "", ""
    for number in range(2, 10_000):
        suffix = f" ({number}){dot}{extension}"
        room = MAX_NAME_BYTES - len(suffix.encode())
        short = stem.encode()[: max(room, 1)].decode("utf-8", errors="ignore")
        candidate = short + suffix
        if clash_key(candidate) not in taken:
            return candidate
    return name  # 10,000 copies of one name: the caller's 409 stands without a suggestion


def terms(name: str) -> set[str]:
    """The search terms of a name: each of its words, and its whole clash key when that starts with no word.

    A query with words matches word terms only (a key that starts with a query word has that word as its first
    word), and a query without words (`!!!`) can only be a prefix of a key that starts with no word: so the
    whole key is indexed only where a query can reach it, and word ranges hold one entry per word.
    """
    key = clash_key(name)
    words = {word for word in _WORDS.split(key) if word}
    if key and _WORDS.match(key):
        words.add(key)
    return {term[:MAX_TERM_CHARS] for term in words}


def query_words(query: str) -> list[str]:
    """The words of a search query (or the whole query when it has none, e.g. only punctuation)."""
    key = clash_key(query.strip())
    words = [word[:MAX_TERM_CHARS] for word in _WORDS.split(key) if word]
    return words or ([key[:MAX_TERM_CHARS]] if key else [])


WINDOWS_FORBIDDEN = '\\:*?"<>|'
"""Characters no name on Windows may hold (and `/`, which no Nubes name holds)."""
WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{digit}" for digit in "123456789"), *(f"LPT{digit}" for digit in "123456789")]
)
"""Device names Windows keeps for itself, with any extension (`con.txt` too), in any case."""


def windows_problem(name: str) -> str | None:
    """Why a Windows computer could not hold a file or folder called `name` (what a sync client there would trip
    on), or None. A tenant whose policy refuses such names applies this to every name written."""
    forbidden = sorted({char for char in name if char in WINDOWS_FORBIDDEN})
    if forbidden:
        shown = " ".join(forbidden)
        return f"Windows cannot hold {shown} in a name; your organization refuses such names so every computer can sync them"
    if name[-1:] in {".", " "}:
        return "Windows cannot hold a name that ends with a dot or a space; your organization refuses such names"
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in WINDOWS_RESERVED:
        return f"Windows keeps {stem} for a device, with any extension; your organization refuses such names"
    return None
