"""Every `make TARGET` the docs show is a target of the Makefile."""

from __future__ import annotations

import pathlib
import re

import pytest

from tests.docs import pages

MAKEFILE = pages.ROOT / "Makefile"


def targets() -> set[str]:
    """The Makefile's targets, with its `$(VARIABLE)`s expanded."""
    text = MAKEFILE.read_text(encoding="utf-8")
    variables = dict(re.findall(r"^([A-Z_0-9]+) *[:?]?= *(.*)$", text, flags=re.MULTILINE))
    found = set()
    for line in re.findall(r"^([^\s#=:][^=:]*):(?!=)", text, flags=re.MULTILINE):
        expanded = re.sub(r"\$\(([A-Z_0-9]+)\)", lambda m: variables[m[1]].strip(), line)
        found.update(expanded.split())
    return found - {".PHONY"}


def mentioned(text: str) -> set[str]:
    return {
        target
        for snippet in pages.code(text)
        for target in re.findall(r"(?:^|[\s;&(])make +([^\s`;|&)-][^\s`;|&)]*)", snippet)
    }


def test_the_makefile_is_read() -> None:
    assert {"demo", "test", "chart-docs", ".venv/.installed"} <= targets()


@pytest.mark.parametrize("page", pages.every_page(), ids=lambda path: path.name)
def test_every_make_target_mentioned_exists(page: pathlib.Path) -> None:
    unknown = mentioned(pages.read(page)) - targets()
    assert not unknown, f"{page.name} mentions make targets the Makefile lacks: {unknown}"


def test_the_readme_starts_with_make_demo_and_make_test() -> None:
    first_block = pages.read(pages.README).split("```sh\n")[1].split("```")[0]
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == [
        "make demo",
        "make test",
    ]
