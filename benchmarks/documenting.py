"""Writing a run's results into docs/performance.md, so its tables are regenerated, never typed.

`python -m benchmarks.documenting` (`make bench-docs`) reads `.bench/results.json` and replaces
each block of the page between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`:

- NAME a benchmark (`reconcile`, `idle`, ...): its tables, with the run they come from; a block
  whose benchmark is not in the results is left as it is;
- `targets`: the targets table, whose rows of the benchmarks in the results are replaced and
  the others kept (a run of some benchmarks leaves the others' rows alone).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import reporting, results, spawning

PAGE = spawning.ROOT / "docs" / "performance.md"
_BLOCK = re.compile(
    r"(?P<start><!-- bench:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(?P<end><!-- /bench:(?P=name) -->)",
    re.DOTALL,
)


def update(page: str, document: dict[str, Any]) -> tuple[str, list[str]]:
    """The page with its blocks regenerated from `document`, and the names of those replaced."""
    replaced: list[str] = []

    def regenerate(block: re.Match[str]) -> str:
        name = block["name"]
        if name == "targets":
            body = _targets(block["body"], document)
        elif name in document["benchmarks"]:
            body = _tables(name, document)
        else:
            return block[0]
        replaced.append(name)
        return f"{block['start']}{body}\n{block['end']}"

    return _BLOCK.sub(regenerate, page), replaced


def provenance(document: dict[str, Any]) -> str:
    """Which run a block comes from: profile, start time, load on the shared machine."""
    machine = document["machine"]
    load = f"load average {machine['load_average'][0]:.2f} at the start"
    if "load_average_after" in machine:
        load += f", {machine['load_average_after'][0]:.2f} at the end"
    return (
        f"_From the {document['profile']['name']} run of {document['started']} "
        f"(`.bench/results.json`; {machine['nproc']} x {machine['cpu_model']}, Python "
        f"{machine['python']}; {load})._"
    )


def _tables(name: str, document: dict[str, Any]) -> str:
    tables = [_table(table) for table in document["benchmarks"][name]["tables"]]
    tables = [table for table in tables if table.rows]
    return "\n\n".join([provenance(document), *map(reporting.render_markdown, tables)])


def _table(data: dict[str, Any]) -> results.Table:
    return results.Table(
        title=data["title"],
        columns=tuple(data["columns"]),
        rows=tuple(tuple(row) for row in data["rows"]),
        notes=tuple(data["notes"]),
    )


def _targets(current: str, document: dict[str, Any]) -> str:
    measured = [results.Target(**target) for target in document["targets"]]
    fresh = {target.benchmark for target in measured}
    groups: dict[str, list[tuple[str, ...]]] = {}
    for row in _rows(current):
        groups.setdefault(row[0], []).append(row)
    for target in measured:
        groups.setdefault(target.benchmark, [])
    rows = []
    for benchmark, kept in groups.items():
        if benchmark in fresh:
            rows += [reporting.target_row(t) for t in measured if t.benchmark == benchmark]
        else:
            rows += kept
    table = dataclasses.replace(reporting.targets_table(()), rows=tuple(rows))
    return reporting.render_markdown(table, titled=False)


def _rows(table: str) -> list[tuple[str, ...]]:
    """The body rows of a markdown table (after its header and separator lines)."""
    lines = [line.strip() for line in table.splitlines() if line.strip().startswith("|")]
    rows = []
    for line in lines[2:]:
        cells = tuple(cell.strip() for cell in line.strip("|").split(" | "))
        if len(cells) != len(reporting.targets_table(()).columns):
            raise ValueError(f"not a row of the targets table: {line}")
        rows.append(cells)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.documenting", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--input", type=Path, default=spawning.BENCH_DIR / "results.json")
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    document = json.loads(args.input.read_text())
    page, replaced = update(args.page.read_text(), document)
    args.page.write_text(page)
    print(f"{args.page}: {', '.join(replaced) or 'nothing'} regenerated from {args.input}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
