"""docs/performance.md's generated blocks: a run's tables replace theirs, other blocks and the
targets of benchmarks not in the run stay as they are."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from benchmarks import documenting, reporting, results
from tests.benchmarks import results_documents

TABLE = results.Table("Idle: the cost", ("window", "CPU s/hour"), (("alive", "1.5"),), ("note",))
IDLE_TARGET = results.Target("idle", "calls per resync = pages", "3 calls", True)
PAGE = """# Performance

<!-- bench:idle -->
old idle table
<!-- /bench:idle -->

<!-- bench:endpoint -->
endpoint table, typed by its owner
<!-- /bench:endpoint -->

## Targets

<!-- bench:targets -->
| benchmark | target | measured | status |
|---|---|---|---|
| endpoint | within 1.3x of the bare view | 1.65x | NOT MET |
| idle | calls per resync = pages | 4 calls | NOT MET |
<!-- /bench:targets -->
"""


def _document() -> dict[str, object]:
    idle = {"tables": [dataclasses.asdict(TABLE)], "targets": [], "data": {}}
    return results_documents.document({"idle": idle}, (IDLE_TARGET,))


def test_blocks_of_the_run_are_regenerated_the_others_kept() -> None:
    page, replaced = documenting.update(PAGE, _document())

    assert replaced == ["idle", "targets"]
    idle = page.split("<!-- bench:idle -->\n")[1].split("<!-- /bench:idle -->")[0]
    assert idle.startswith("_From the full run of 2026-01-02T03:04:05+00:00")
    assert reporting.render_markdown(TABLE) in idle
    assert "endpoint table, typed by its owner" in page
    targets = page.split("<!-- bench:targets -->\n")[1].split("<!-- /bench:targets -->")[0]
    assert targets.splitlines() == [
        "| benchmark | target | measured | status |",
        "|---|---|---|---|",
        "| endpoint | within 1.3x of the bare view | 1.65x | NOT MET |",
        "| idle | calls per resync = pages | 3 calls | met |",
    ]


def test_regenerating_twice_changes_nothing_more(tmp_path: Path) -> None:
    once, _ = documenting.update(PAGE, _document())
    twice, _ = documenting.update(once, _document())

    assert twice == once


def test_main_writes_the_page(tmp_path: Path) -> None:
    page, document = tmp_path / "performance.md", tmp_path / "results.json"
    page.write_text(PAGE)
    reporting.write_json(document, _document())

    assert documenting.main(["--input", str(document), "--page", str(page)]) == 0
    assert "| idle | calls per resync = pages | 3 calls | met |" in page.read_text()
