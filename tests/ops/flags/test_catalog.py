"""The README documents every feature flag: its table is made from the catalog and must match it."""

from __future__ import annotations

from pathlib import Path

from nubes.ops.flags.catalog import FLAGS

README = Path(__file__).resolve().parents[3] / "README.md"
START = "<!-- feature-flags:start"  # the rest of the comment says where the table comes from
END = "<!-- feature-flags:end -->"


def table() -> str:
    """The README's table of flags, as the catalog says it should read."""
    lines = ["| Flag | Scope | Default | Since | What it turns on |", "|---|---|---|---|---|"]
    for flag in FLAGS:
        default = "on" if flag.default else "off"
        cells = [f"`{flag.key}`", flag.scope, default, flag.since, f"**{flag.title}.** {flag.description}"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def test_the_readme_lists_every_flag_as_the_catalog_declares_it() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text
    assert END in text
    documented = text.split(START, 1)[1].split("-->", 1)[1].split(END, 1)[0].strip()
    expected = table()
    assert documented == expected, f"Update README.md between the feature-flags markers with:\n\n{expected}\n"
