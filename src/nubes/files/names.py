"""File and folder names: what is allowed, how clashes are judged, what to suggest instead, search terms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

MAX_NAME_BYTES = 255
_WORDS = re.compile(r"[\W_]+")
MAX_TERM_CHARS = 255


class BadName(ValueError):
    """A name that cannot be stored; the message says why."""


def normalize(raw: str) -> str:
    """The stored form of a name (Unicode NFC), or BadName.

    Refused: empty, `.` and `..`, `/`, NUL and every other control character, more than 255 bytes
    of UTF-8 (the limit of common filesystems, so every name can be synced to a disk).
    """
    name = unicodedata.normalize("NFC", raw)
    if not name:
        raise BadName("a name cannot be empty")
    if name in {".", ".."}:
        raise BadName("'.' and '..' are not names")
    if "/" in name:
        raise BadName("a name cannot contain '/'")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise BadName("a name cannot contain control characters (NUL, newline, tab, ...)")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise BadName("a name must be valid Unicode text") from None
    if len(encoded) > MAX_NAME_BYTES:
        raise BadName(f"a name can be at most {MAX_NAME_BYTES} bytes of UTF-8 (this one is {len(encoded)})")
    return name


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
    """The search terms of a name: its whole clash key and each of its words."""
    key = clash_key(name)
    words = {word for word in _WORDS.split(key) if word}
    return {term[:MAX_TERM_CHARS] for term in words | {key}}


def query_words(query: str) -> list[str]:
    """The words of a search query (or the whole query when it has none, e.g. only punctuation)."""
    key = clash_key(query.strip())
    words = [word[:MAX_TERM_CHARS] for word in _WORDS.split(key) if word]
    return words or ([key[:MAX_TERM_CHARS]] if key else [])
