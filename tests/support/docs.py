"""The documentation as the tests read it: pages, their sections, headings, anchors and links.

Headings and links are read outside fenced code blocks, and anchors follow GitHub's rules
(lower case, punctuation dropped but ``-`` and ``_``, spaces to ``-``, accents kept, ``-1``,
``-2`` for a repeated heading), so that a link the tests accept is one GitHub follows.
"""

from __future__ import annotations

import re

from tests.support.settings import ROOT

HEADING = re.compile(r"^(#{1,6}) +(.+?) *#*$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`+[^`]*`+")
#: The operator's pages, each with its French translation under docs/fr/.
TRANSLATED = (
    "docs/okta-setup.md",
    "docs/going-live.md",
    "docs/operations.md",
    "docs/configuration.md",
)
#: What tells the reader how to run psc-hook from a clone.
ON_PATH = 'export PATH="$PWD/.venv/bin:$PATH"'


def page(path: str) -> str:
    """A page of the repository, by its path from the root."""
    return (ROOT / path).read_text(encoding="utf-8")


def markdown_pages() -> list[str]:
    """Every page whose links must resolve: the root's, docs/ and bench/README.md."""
    pages = ["README.md", "SECURITY.md", "CHANGELOG.md", "bench/README.md"]
    pages += sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))
    return pages


def translated_pages() -> list[tuple[str, str]]:
    """(English page, its French translation) for every operator's page."""
    deploy = sorted((ROOT / "docs" / "deploy").glob("*.md"))
    english = [*TRANSLATED, *(str(path.relative_to(ROOT)) for path in deploy)]
    return [(path, path.replace("docs/", "docs/fr/", 1)) for path in english]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def code_lines(text: str) -> list[str]:
    """The lines inside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced:
            lines.append(line)
    return lines


def headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every heading, in order."""
    found = (HEADING.match(line) for line in prose_lines(text))
    return [(len(match.group(1)), match.group(2)) for match in found if match]


def slug(title: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor GitHub gives the page's headings."""
    seen: dict[str, int] = {}
    result = set()
    for _, title in headings(text):
        base = slug(title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def relative_links(text: str) -> list[str]:
    """Every link target of the page that is not a URL with a scheme."""
    targets = []
    for line in prose_lines(text):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if not re.match(r"[a-z][a-z0-9+.-]*:", target):
                targets.append(target)
    return targets


def section(path: str, title: str) -> str:
    """The text under the heading ``title`` of a page, up to the next heading of its level
    or above (its subsections included)."""
    lines = page(path).splitlines()
    fenced, start, level = False, None, 0
    for number, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if not match:
            continue
        if start is None and match.group(2) == title:
            start, level = number + 1, len(match.group(1))
        elif start is not None and len(match.group(1)) <= level:
            return "\n".join(lines[start:number])
    if start is None:
        raise AssertionError(f"{path} has no heading {title!r}")
    return "\n".join(lines[start:])
