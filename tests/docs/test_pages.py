"""The markdown reading the docs tests rely on: tables, sections, links and GitHub's anchors."""

from __future__ import annotations

import pytest

from tests.docs import pages


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Settings", "settings"),
        ("RBAC, rule by rule", "rbac-rule-by-rule"),
        ("`python -m emulators`", "python--m-emulators"),
        ("Django: `manage.py task_manager`", "django-managepy-task_manager"),
        ("The Pub/Sub emulator", "the-pubsub-emulator"),
        ("Django integration (`django_integration`)", "django-integration-django_integration"),
    ],
)
def test_slugify_gives_githubs_ids(heading: str, slug: str) -> None:
    assert pages.slugify(heading) == slug


def test_duplicate_headings_are_numbered() -> None:
    assert pages.anchors("# Page\n## Tests\n### Tests\n") == {"page", "tests", "tests-1"}


def test_tables_keep_escaped_pipes_in_their_cell() -> None:
    text = "intro\n\n| option | meaning |\n| --- | --- |\n| `--a x\\|y` | one |\n| `--b` | two |\n"
    assert pages.tables(text) == [
        [{"option": "`--a x|y`", "meaning": "one"}, {"option": "`--b`", "meaning": "two"}]
    ]


def test_section_stops_at_the_next_heading_as_high() -> None:
    text = "# P\n## A\none\n### A.1\ntwo\n## B\nthree\n"
    assert pages.section(text, "A") == "one\n### A.1\ntwo"
    with pytest.raises(AssertionError, match="no heading 'C'"):
        pages.section(text, "C")


def test_links_and_code_leave_each_other_alone() -> None:
    text = "See [a](a.md#x) and `[b](b.md)`.\n```sh\nmake demo  # [c](c.md)\n```\n"
    assert pages.links(text) == ["a.md#x"]
    assert pages.code(text) == ["make demo  # [c](c.md)", "[b](b.md)"]
