"""The values table generator: comments, documented keys, rendering and the README markers."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from tools import chart_docs


def values(text: str) -> list[tuple[str, str, object, str]]:
    found = chart_docs.documented(textwrap.dedent(text))
    return [(v.key, v.type, v.default, v.description) for v in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """
            # -- The name.
            name: ""
            """,
            [("name", "string", "", "The name.")],
            id="top-level",
        ),
        pytest.param(
            """
            image:
              # -- Tag.
              tag: "1.0"
              # -- Pull policy.
              pullPolicy: IfNotPresent
            """,
            [
                ("image.tag", "string", "1.0", "Tag."),
                ("image.pullPolicy", "string", "IfNotPresent", "Pull policy."),
            ],
            id="nested keys get dotted names",
        ),
        pytest.param(
            """
            # -- Writers, one Role each.
            # Entries: {namespace: shop}.
            writers: []
            """,
            [("writers", "list", [], "Writers, one Role each. Entries: {namespace: shop}.")],
            id="continuation lines join the description",
        ),
        pytest.param(
            """
            # -- Security context.
            context:
              runAsUser: 65532
              capabilities:
                drop: [ALL]
            """,
            [
                (
                    "context",
                    "object",
                    {"runAsUser": 65532, "capabilities": {"drop": ["ALL"]}},
                    "Security context.",
                )
            ],
            id="a documented mapping is one value",
        ),
        pytest.param(
            """
            metrics:
              # -- On or off.
              enabled: false
              # -- Port.
              port: 9090
            # -- Replicas.
            replicas: 1
            """,
            [
                ("metrics.enabled", "bool", False, "On or off."),
                ("metrics.port", "int", 9090, "Port."),
                ("replicas", "int", 1, "Replicas."),
            ],
            id="dedenting leaves the parent",
        ),
    ],
)
def test_documented_values(text: str, expected: list[tuple[str, str, object, str]]) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(
    ("text", "undocumented"),
    [
        pytest.param("name: x\n", "name", id="no comment"),
        pytest.param("# plain comment\nname: x\n", "name", id="a comment without --"),
        pytest.param("# -- Gone.\n\nname: x\n", "name", id="a blank line ends the description"),
        pytest.param(
            "image:\n  # -- Tag.\n  tag: x\n  pullPolicy: y\n", "image.pullPolicy", id="a sibling"
        ),
        pytest.param("# -- Empty.\nempty: {}\nother: {}\n", "other", id="an empty mapping"),
    ],
)
def test_a_value_without_a_description_is_an_error(text: str, undocumented: str) -> None:
    with pytest.raises(ValueError, match=f"values without a '# --' comment: {undocumented}$"):
        chart_docs.documented(text)


def test_the_table_escapes_what_markdown_would_eat() -> None:
    value = chart_docs.Value("name", "string", "<x>", 'The "<release>-<chart>" name | or none.')
    assert chart_docs.table([value]) == (
        chart_docs.HEADER
        + '| `name` | string | `"<x>"` | The "&lt;release&gt;-&lt;chart&gt;" name \\| or none. |\n'
    )


def test_rewrite_replaces_only_the_text_between_the_markers() -> None:
    readme = f"intro\n{chart_docs.BEGIN}\nold table\n{chart_docs.END}\noutro\n"
    assert chart_docs.rewrite(readme, "new table\n") == (
        f"intro\n{chart_docs.BEGIN}\nnew table\n{chart_docs.END}\noutro\n"
    )


def test_rewrite_needs_both_markers() -> None:
    with pytest.raises(ValueError, match="needs the markers"):
        chart_docs.rewrite(f"{chart_docs.END}\n{chart_docs.BEGIN}\n", "table\n")


def chart(tmp_path: pathlib.Path, readme: str) -> pathlib.Path:
    (tmp_path / "values.yaml").write_text("# -- Replicas.\nreplicas: 1\n")
    (tmp_path / "README.md").write_text(readme)
    return tmp_path


def test_main_writes_the_table_and_check_then_passes(tmp_path: pathlib.Path) -> None:
    path = chart(tmp_path, f"# Chart\n{chart_docs.BEGIN}\n{chart_docs.END}\n")
    assert chart_docs.main(["--check"], chart=path) == 1
    assert chart_docs.main([], chart=path) == 0
    assert "| `replicas` | int | `1` | Replicas. |" in (path / "README.md").read_text()
    assert chart_docs.main(["--check"], chart=path) == 0


def test_check_leaves_a_stale_readme_alone(tmp_path: pathlib.Path, capsys) -> None:
    stale = f"{chart_docs.BEGIN}\n| stale |\n{chart_docs.END}\n"
    path = chart(tmp_path, stale)
    assert chart_docs.main(["--check"], chart=path) == 1
    assert (path / "README.md").read_text() == stale
    assert "run `make chart-docs`" in capsys.readouterr().err
