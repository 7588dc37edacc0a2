"""Name rules shared by the file cloud and container volumes, and a download header safe for any name."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nubes.core.names import BadName, content_disposition, normalize


@pytest.mark.parametrize("name", ["a\r\nb", "x\n", "\t", "nul\x00", "", ".", "..", "a/b", "é" * 200])
def test_names_the_cloud_refuses(name: str) -> None:
    with pytest.raises(BadName):
        normalize(name)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_content_disposition_is_one_printable_ascii_line_carrying_the_exact_name(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii()
    assert header.isprintable()
    assert unquote(header.rpartition("filename*=UTF-8''")[2]) == name


def test_content_disposition_takes_a_name_that_is_not_utf8() -> None:
    """A name made inside a container from bytes that are not UTF-8 (os.fsdecode gives lone surrogates)."""
    name = b"caf\xe9\r\n.txt".decode("utf-8", errors="surrogateescape")
    header = content_disposition(name)
    assert header.isascii()
    assert header.isprintable()
    assert header.endswith("filename*=UTF-8''caf%E9%0D%0A.txt")
