"""The README and docs/ stay a user's pages: a short README, and no link or path that leaves the
repository or leads nowhere (a user's clone holds only the repository)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "reports" / "README.md"]
README_MAX_LINES = 350

# [text](target) and ![alt](target); a target may carry a "title".
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# Reference-style definitions: [name]: target
REF = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
# A parent-folder step anywhere in the text: `../shared/...` in a command is as broken as in a link.
PARENT = re.compile(r"(?<![\w.])\.\./")
# Absolute paths into a machine's own folders (a developer's checkout, home or scratch space).
MACHINE_PATH = re.compile(r"(?<![\w.:/~$}])/(?:work|home|root|tmp|mnt|Users|scratch)/[\w.-]")
EXTERNAL = ("http://", "https://", "mailto:")


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _targets(text: str) -> list[str]:
    return LINK.findall(text) + REF.findall(text)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    kept = "".join(c for c in text if c in " -" or unicodedata.category(c)[0] in "LN" or c == "_")
    return kept.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/ (limit {README_MAX_LINES})"


def test_readme_keeps_the_test_command():
    # .ci/run runs the suite with this command; the README's Development section says so.
    assert "python -m pytest -q" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_no_path_leaves_the_repository(page):
    text = page.read_text(encoding="utf-8")
    bad = [m.group(0) for m in PARENT.finditer(text) if not _inside_a_link_that_stays(text, m.start(), page)]
    bad += MACHINE_PATH.findall(text)
    for target in _targets(text):
        if target.startswith(("/", "file:", "~")) or re.match(r"[A-Za-z]:\\", target):
            bad.append(target)
    assert not bad, f"{_page_id(page)} points outside the repository: {bad}"


def _inside_a_link_that_stays(text: str, pos: int, page: Path) -> bool:
    """A `../` that is part of a relative link target resolving inside the repository
    (docs/x.md linking ../reports/README.md) is fine."""
    for m in LINK.finditer(text):
        if m.start(1) <= pos < m.end(1):
            target = (page.parent / m.group(1).split("#", 1)[0]).resolve()
            return target == ROOT or ROOT in target.parents
    return False


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_relative_link_resolves(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in _targets(text):
        if target.startswith(EXTERNAL):
            continue
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not (dest == ROOT or ROOT in dest.parents) or not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{_page_id(page)} links to what is not in the repository: {broken}"


def test_the_checks_catch_what_they_are_for():
    # The patterns themselves: each would let a broken page through if it matched nothing.
    assert PARENT.search("drumfont data gmd ../shared/data/gmd --out gmd.npz")
    assert not PARENT.search("keep .../ellipses and ./here")
    assert MACHINE_PATH.search("made from /work/shared/data/gmd")
    assert not MACHINE_PATH.search("https://example.org/tmp/x and $HOME/tmp/x and /usr/share/fonts")
    assert _targets("see [the kit](docs/studio.md#sound) and ![shot](docs/studio.png)") == [
        "docs/studio.md#sound", "docs/studio.png"]
    assert _slug("Live MIDI: `drumfont play` and `drumfont ports`") == "live-midi-drumfont-play-and-drumfont-ports"
    assert _slug("1. Import the library") == "1-import-the-library"
    assert _slug("Live timing (`benchmarks/bench_player.py`)") == "live-timing-benchmarksbench_playerpy"
