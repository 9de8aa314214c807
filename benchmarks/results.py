"""What a benchmark hands back: tables to print, targets met or not, and data for the JSON file."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"{self.title}: row {row} does not match columns {self.columns}")


@dataclasses.dataclass(frozen=True)
class Target:
    """One claim from the issue: `goal` in words, what was `measured`, and whether it held."""

    benchmark: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run (e.g. a size only the full run has)
    note: str = ""

    @property
    def status(self) -> str:
        return {True: "met", False: "NOT MET", None: "not measured"}[self.met]


@dataclasses.dataclass(frozen=True)
class Outcome:
    name: str
    tables: Sequence[Table]
    targets: Sequence[Target]
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "targets": [dataclasses.asdict(target) for target in self.targets],
            "tables": [dataclasses.asdict(table) for table in self.tables],
        }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}" if seconds < 0.001 else f"{seconds * 1000:.1f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def rate(per_second: float) -> str:
    return f"{per_second:,.0f}"
