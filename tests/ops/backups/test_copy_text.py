"""PostgreSQL's COPY text format as `pg_restore` prints a dump's rows: what the per-user restore reads names from."""

from __future__ import annotations

import pytest

from nubes.ops.backups.engine import copy_text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("\\N", None),
        ("", ""),
        ("plain name.txt", "plain name.txt"),
        ("back\\\\slash", "back\\slash"),
        ("tab\\there", "tab\there"),
        ("line\\nbreak\\r", "line\nbreak\r"),
        ("\\\\N", "\\N"),
        ("Zürich ✓ \\\\ x", "Zürich ✓ \\ x"),
        ("odd\\qescape", "oddqescape"),
        ("ends with a backslash \\", "ends with a backslash "),
    ],
)
def test_fields_come_back_as_they_were_stored(field: str, value: str | None) -> None:
    assert copy_text(field) == value
