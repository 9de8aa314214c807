"""Printing the tables and writing `.bench/results.json`, with the machine the numbers came from."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import results

# Cells of numbers (1,234  0.52  1.08x  3/4  -) are right-aligned; words are left-aligned.
_NUMBER = re.compile(r"^(-|[\d.,/]+(x| s| MB)?)$")


def render(table: results.Table) -> str:
    """A plain-text table: left-aligned first column, right-aligned numbers."""
    cells = [table.columns, *table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]

    numeric = _numeric_columns(table)

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [table.title, line(table.columns), "  ".join("-" * width for width in widths)]
    out += [line(row) for row in table.rows]
    out += [f"  {note}" for note in table.notes]
    return "\n".join(out)


def render_markdown(table: results.Table, *, titled: bool = True) -> str:
    """The table as GitHub markdown (for docs/performance.md), title in bold, notes as a list."""
    lines = [f"**{table.title}**", ""] if titled else []
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "|".join("--:" if n else "---" for n in _numeric_columns(table)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    if table.notes:
        lines += ["", *(f"- {note}" for note in table.notes)]
    return "\n".join(lines)


def _numeric_columns(table: results.Table) -> list[bool]:
    return [
        bool(table.rows) and all(_NUMBER.match(row[i]) for row in table.rows)
        for i in range(len(table.columns))
    ]


def target_row(target: results.Target) -> tuple[str, str, str, str]:
    return (target.benchmark, target.goal, target.measured, target.status)


def targets_table(targets: Sequence[results.Target]) -> results.Table:
    rows = tuple(map(target_row, targets))
    return results.Table("Targets", ("benchmark", "target", "measured", "status"), rows)


def render_targets(targets: Sequence[results.Target]) -> str:
    text = render(targets_table(targets))
    notes = [f"  {t.goal}: {t.note}" for t in targets if t.note]
    return "\n".join([text, *notes])


def machine() -> dict[str, Any]:
    """What the numbers were measured on: cores, CPU model, Python, load."""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()),
        "packages": {
            name: _version(name)
            for name in (
                "Django",
                "grpcio",
                "google-cloud-tasks",
                "google-cloud-scheduler",
                "google-cloud-pubsub",
                "protobuf",
            )
        },
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2, default=_default) + "\n")
    temporary.replace(path)


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
