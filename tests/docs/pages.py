"""Reading the docs' markdown: pages, sections, tables, code spans, links and heading anchors."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CHART_README = ROOT / "charts" / "gcp-tasks-controller" / "README.md"


def every_page() -> list[pathlib.Path]:
    """Every user-facing markdown page: the README, docs/, the chart's README, the changelog."""
    return [README, *sorted(DOCS.glob("*.md")), CHART_README, ROOT / "CHANGELOG.md"]


def read(path: pathlib.Path) -> str:
    return path.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under `heading` (its exact title, without #s) up to the next heading as high."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"^(#{1,6}) (.*)$", line)
        if match and match[2].strip() == heading:
            level = len(match[1])
            body = []
            for rest in lines[number + 1 :]:
                found = re.match(r"^(#{1,6}) ", rest)
                if found and len(found[1]) <= level:
                    break
                body.append(rest)
            return "\n".join(body)
    raise AssertionError(f"no heading {heading!r}")


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every pipe table in `text`, as rows keyed by the header's cells."""
    found: list[list[dict[str, str]]] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2:
            header, *rows = (_cells(row) for row in block)
            found.append([dict(zip(header, row, strict=True)) for row in rows[1:]])
        block = []
    return found


def _cells(row: str) -> list[str]:
    inner = row.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace(r"\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def code_spans(text: str) -> list[str]:
    """The contents of every `code span` in `text`, in order."""
    return re.findall(r"`([^`]+)`", text)


def first_code(cell: str) -> str:
    spans = code_spans(cell)
    assert spans, f"no code span in {cell!r}"
    return spans[0]


def without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def code(text: str) -> list[str]:
    """Everything written as code: the lines of fenced blocks and the inline code spans."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()]
    return lines + code_spans(without_code_blocks(text))


def links(text: str) -> list[str]:
    """The target of every markdown link outside code."""
    prose = re.sub(r"`[^`]*`", "", without_code_blocks(text))
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def anchors(text: str) -> set[str]:
    """The ids GitHub gives the headings of a page (duplicates get -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for match in re.finditer(r"^#{1,6} (.+)$", without_code_blocks(text), flags=re.MULTILINE):
        slug = slugify(match[1])
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(f"{slug}-{count}" if count else slug)
    return found


def slugify(heading: str) -> str:
    """GitHub's heading id: lower case, punctuation other than - and _ dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
