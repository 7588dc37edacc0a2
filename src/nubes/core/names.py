"""What a file or folder name may be, wherever one is created: the file cloud and a container's volume alike."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255


class BadName(ValueError):
    """A name that cannot be stored; the message says why."""


def normalize(raw: str) -> str:
    """The stored form of a name (Unicode NFC), or BadName.

    Refused: empty, `.` and `..`, `/`, NUL and every other control character (CR and LF would split an
    HTTP header or a log line), more than 255 bytes of UTF-8 (the limit of common filesystems, so every
    name can be synced to a disk).
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


def content_disposition(name: str) -> str:
    """`attachment` with a printable-ASCII `filename` and the exact name in `filename*` (RFC 6266, RFC 8187).

    Safe for any name, including one made inside a container that breaks the rules above (a newline,
    a quote, bytes that are not UTF-8): the header is always one line of printable ASCII.
    """
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\%;' else "_" for ch in name).strip() or "download"
    try:
        raw = name.encode("utf-8", errors="surrogateescape")  # a name read from disk that was not UTF-8
    except UnicodeEncodeError:
        raw = name.encode("utf-8", errors="replace")  # any other lone surrogate
    exact = quote(raw, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
