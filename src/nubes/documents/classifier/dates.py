"""Dates written in a document's text, for its date (`created_on`): a fixed set of formats, each read one way only.

- ISO: `2026-12-07`
- day.month.year: `07.12.2026`, `7.12.2026`
- with a slash, when only one reading is a date: `31/12/2026` (day first), `12/31/2026` (month first); `03/04/2026`
  could be either and is skipped
- the month's name, English or German: `7 December 2026`, `7th Dec. 2026`, `December 7, 2026`, `7. Dezember 2026`

Years outside 1900 to 2100 are not dates of a document (an amount, a reference number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    "january": 1, "jan": 1, "januar": 1, "jänner": 1, "february": 2, "feb": 2, "februar": 2, "march": 3, "mar": 3,
    "märz": 3, "maerz": 3, "april": 4, "apr": 4, "may": 5, "mai": 5, "june": 6, "jun": 6, "juni": 6, "july": 7,
    "jul": 7, "juli": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10,
    "oktober": 10, "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12, "dezember": 12, "dez": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_PATTERNS = (
    ("ymd", re.compile(r"(?<![\d.\-/])(\d{4})-(\d{2})-(\d{2})(?![\d\-])")),
    ("dmy", re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d|\.\d)")),
    ("slash", re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")),
    ("d-month-y", re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|\.)?\s+({_MONTH})\.?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)),
    ("month-d-y", re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE)),
)
FIRST_YEAR, LAST_YEAR = 1900, 2100


@dataclass(frozen=True, slots=True)
class Found:
    """A date of the text, where it was and as it was written."""

    value: date
    at: int
    text: str


def _date(year: int, month: int, day: int) -> date | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _read(kind: str, groups: tuple[str, ...]) -> date | None:
    if kind == "ymd":
        return _date(int(groups[0]), int(groups[1]), int(groups[2]))
    if kind == "dmy":
        return _date(int(groups[2]), int(groups[1]), int(groups[0]))
    if kind == "slash":
        first, second, year = (int(group) for group in groups)
        day_first, month_first = _date(year, second, first), _date(year, first, second)
        if day_first and month_first and day_first != month_first:
            return None  # 03/04/2026: the 3rd of April or March the 4th, nobody can tell
        return day_first or month_first
    if kind == "d-month-y":
        return _date(int(groups[2]), _MONTHS[groups[1].lower()], int(groups[0]))
    return _date(int(groups[2]), _MONTHS[groups[0].lower()], int(groups[1]))


def find(text: str, *, limit: int = 20) -> list[Found]:
    """The dates written in `text`, in the order they appear (at most `limit`)."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            value = _read(kind, match.groups())
            if value is not None:
                found.append(Found(value, match.start(), " ".join(match.group(0).split())))
                taken.append((match.start(), match.end()))
    return sorted(found, key=lambda item: item.at)[:limit]
