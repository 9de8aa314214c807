"""The printed tables and the JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import reporting, results


def test_render_aligns_words_left_and_numbers_right() -> None:
    table = results.Table(
        title="Title",
        columns=("name", "rate", "ratio"),
        rows=(("raw client", "1,234", "1.00x"), ("ours", "98", "12.50x")),
        notes=("a note",),
    )
    assert reporting.render(table).splitlines() == [
        "Title",
        "name         rate   ratio",
        "----------  -----  ------",
        "raw client  1,234   1.00x",
        "ours           98  12.50x",
        "  a note",
    ]


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match"):
        results.Table(title="T", columns=("a", "b"), rows=(("1",),))


@pytest.mark.parametrize(
    ("met", "status"), [(True, "met"), (False, "NOT MET"), (None, "not measured")]
)
def test_targets_show_their_status_and_notes(met: bool | None, status: str) -> None:
    target = results.Target("enqueue", "within 1.1x", "1.05x", met, note="why")
    text = reporting.render_targets([target])
    row = text.splitlines()[3]
    assert row.split() == ["enqueue", "within", "1.1x", "1.05x", *status.split()]
    assert text.endswith("  within 1.1x: why")


def test_write_json_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out" / "results.json"
    reporting.write_json(path, {"targets": [results.Target("b", "g", "m", True)]})
    assert json.loads(path.read_text()) == {
        "targets": [{"benchmark": "b", "goal": "g", "measured": "m", "met": True, "note": ""}]
    }
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_machine_names_cores_cpu_and_python() -> None:
    machine = reporting.machine()
    assert machine["nproc"] >= 1
    assert machine["cpu_model"]
    assert machine["python"].count(".") == 2
    assert machine["packages"]["grpcio"]


def test_render_markdown_right_aligns_number_columns() -> None:
    table = results.Table("T", ("name", "rate"), (("ours", "1,234"),), notes=("n",))
    assert reporting.render_markdown(table).splitlines() == [
        "**T**",
        "",
        "| name | rate |",
        "|---|--:|",
        "| ours | 1,234 |",
        "",
        "- n",
    ]
