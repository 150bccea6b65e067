"""Every relative link in README.md and docs/*.md names a file or folder of the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and [label]: target, outside code spans and fenced blocks
_INLINE = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_CODE = re.compile(r"`[^`\n]*`")


def relative_links(text: str) -> list[str]:
    """The relative link targets of a Markdown page (no URLs, no in-page anchors), without their #anchor."""
    text = _CODE.sub("", _FENCED.sub("", text))
    targets = _INLINE.findall(text) + _REFERENCE.findall(text)
    out = []
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue
        out.append(target.split("#", 1)[0])
    return out


def test_links_are_found() -> None:
    text = "See [a](docs/a.md#x), [b](https://x.org), [c](#top), `[d](no.md)`\n[e]: ../e.md\n```\n[f](f.md)\n```\n"
    assert relative_links(text) == ["docs/a.md", "../e.md"]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    broken = [t for t in relative_links(page.read_text(encoding="utf-8")) if not (page.parent / t).exists()]
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"
    for target in relative_links(page.read_text(encoding="utf-8")):
        assert (page.parent / target).resolve().is_relative_to(ROOT), f"{target} points outside the repository"
