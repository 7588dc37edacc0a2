"""Snippets made from an entry's text: the window with the most different matched terms, words compared as the
engines compare them (case and diacritics folded, prefixes, phrases in order), bounded on long texts."""

from __future__ import annotations

from nubes.search import snippets
from nubes.search.query import parse


def _marked(text: str, query: str, words: int = 10) -> str:
    return snippets.make(text, parse(query).terms, words=words).replace(snippets.OPEN, "[").replace(snippets.CLOSE, "]")


TEXT = "Le café de Paris est fermé. The quick brown fox jumps over the lazy dog; net salary is paid monthly."


def test_words_are_folded_as_the_index_folds_them() -> None:
    assert _marked(TEXT, "CAFE") == "Le [café] de Paris est fermé. The quick brown fox…"
    assert _marked(TEXT, "fermé") == "…Paris est [fermé]. The quick brown fox jumps over the…"  # two words before it


def test_prefixes_and_phrases_mark_only_what_matched() -> None:
    assert _marked(TEXT, "qui*") == "…fermé. The [quick] brown fox jumps over the lazy dog…"
    assert _marked(TEXT, '"net salary"') == "…lazy dog; [net] [salary] is paid monthly."
    assert "[" not in _marked(TEXT, '"salary net"')  # a phrase matches in its order only


def test_the_window_with_the_most_different_terms_wins() -> None:
    text = "alpha " * 30 + "beta gamma " + "filler " * 30
    marked = _marked(text, "gamma alpha", words=6)
    assert "[gamma]" in marked, marked
    assert "[alpha]" in marked, marked


def test_no_match_shows_the_start_and_no_words_nothing() -> None:
    assert _marked(TEXT, "zeppelin") == "Le café de Paris est fermé. The quick brown fox…"
    assert _marked("", "zeppelin") == ""
    assert _marked("?! …", "zeppelin") == ""


def test_a_huge_text_is_read_only_up_to_its_bound() -> None:
    text = "word " * (snippets.MAX_SCANNED // 5) + "needle"
    assert "[needle]" not in _marked(text, "needle")
    assert _marked(text, "needle").endswith("…")
