"""The chart's README: its values table is values.yaml's, value for value, and nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from tests.docs import pages
from tools import chart_docs

VALUES = pages.CHART_README.parent / "values.yaml"


def documented() -> dict[str, dict[str, str]]:
    (table,) = pages.tables(pages.section(pages.read(pages.CHART_README), "Values"))
    rows = {pages.first_code(row["key"]): row for row in table}
    assert len(rows) == len(table), "a key is listed twice"
    return rows


def leaves(values: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, value in values.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def at(values: Mapping[str, Any], key: str) -> Any:
    for part in key.split("."):
        values = values[part]
    return values


def test_the_table_is_what_make_chart_docs_writes() -> None:
    readme = pages.read(pages.CHART_README)
    values_table = chart_docs.table(chart_docs.documented(VALUES.read_text(encoding="utf-8")))
    assert readme == chart_docs.rewrite(readme, values_table), "run `make chart-docs`"


def test_every_value_is_in_the_table_with_its_default() -> None:
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    rows = documented()
    for key, row in rows.items():
        assert json.loads(pages.first_code(row["default"])) == at(values, key), key
        assert row["description"], key
    for leaf in leaves(values):
        covering = [key for key in rows if leaf == key or leaf.startswith(f"{key}.")]
        assert len(covering) == 1, f"{leaf} is covered by {covering}"
