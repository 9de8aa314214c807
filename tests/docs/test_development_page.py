"""docs/development.md: the layout table against the packages it describes."""

from __future__ import annotations

import pytest

from tests.docs import pages

PAGE = pages.DOCS / "development.md"


def layout() -> dict[str, str]:
    """Path -> what the layout table says it is."""
    (table,) = pages.tables(pages.section(pages.read(PAGE), "Layout and layers"))
    return {pages.first_code(row["path"]): row["what it is"] for row in table}


@pytest.mark.parametrize("package", ["controller/engine", "controller/planning"])
def test_the_row_of_a_package_names_each_of_its_modules(package: str) -> None:
    modules = {path.stem for path in (pages.ROOT / package).glob("*.py") if path.stem != "__init__"}
    assert len(modules) >= 3, modules
    named = set(pages.code_spans(layout()[package]))
    assert modules <= named, f"{package}: {sorted(modules - named)} not named"
