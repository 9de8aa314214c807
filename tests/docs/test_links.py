"""Every docs page is reachable from the README, and every relative link and anchor resolves."""

from __future__ import annotations

import pathlib

import pytest

from tests.docs import pages


def resolved(page: pathlib.Path, target: str) -> tuple[pathlib.Path, str]:
    path, _, anchor = target.partition("#")
    return ((page.parent / path).resolve() if path else page), anchor


def test_the_readme_links_every_docs_page() -> None:
    linked = {resolved(pages.README, target)[0] for target in pages.links(pages.read(pages.README))}
    wanted = set(pages.every_page()) - {pages.README}
    assert wanted - linked == set(), "pages the README does not link"


@pytest.mark.parametrize("page", pages.every_page(), ids=lambda path: path.name)
def test_every_relative_link_resolves(page: pathlib.Path) -> None:
    relative = [
        target
        for target in pages.links(pages.read(page))
        if not target.startswith(("http://", "https://", "mailto:"))
    ]
    broken = []
    for target in relative:
        path, anchor = resolved(page, target)
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (path.suffix != ".md" or anchor not in pages.anchors(pages.read(path))):
            broken.append(f"{target}: no such heading")
    assert broken == [], f"{page.name}: broken links"
