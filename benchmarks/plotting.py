"""The reconcile scale curve as an SVG, drawn from the benchmark's JSON: the no-drift pass's time
(and CPU) and the controller's peak RSS at each size, with issue 13's targets marked.
`python -m benchmarks.plotting` (`make bench-plot`) reads `.bench/results.json` and writes
`docs/performance-scale.svg`. Plain SVG text: no plotting library needed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from benchmarks import reconciling, spawning

DEFAULT_OUTPUT = spawning.ROOT / "docs" / "performance-scale.svg"
WIDTH, HEIGHT = 810, 330
PANEL_WIDTH, PANEL_HEIGHT = 290, 210
LEFT, TOP = 70, 50  # the first panel's plot area
GAP = 90  # between the two panels' plot areas
TIME, CPU, RSS, TARGET = "#1f77b4", "#7fb8e0", "#2ca02c", "#d62728"


def scale_curve(document: dict[str, Any]) -> list[dict[str, float]]:
    """Per reconcile size: N, the no-drift pass's median seconds and CPU seconds, peak RSS MB."""
    sizes = document["benchmarks"]["reconcile"]["data"]["sizes"]
    points = []
    for size, measured in sorted(sizes.items(), key=lambda item: int(item[0])):
        ours = measured["controller"]
        points.append(
            {
                "size": int(size),
                "seconds": ours["no_drift"]["median_seconds"],
                "cpu_seconds": ours["no_drift"]["median_cpu_seconds"],
                "peak_rss_mb": ours["peak_rss_mb"],
            }
        )
    return points


def render(document: dict[str, Any]) -> str:
    points = scale_curve(document)
    if not points:
        raise ValueError("no reconcile sizes in these results")
    sizes = [point["size"] for point in points]
    when = document.get("started", "")
    load = document.get("machine", {}).get("load_average", [])
    subtitle = f"{document['profile']['name']} run of {when}" + (
        f", load average {load[0]:.2f} at the start" if load else ""
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        _text(
            LEFT,
            18,
            "Reconcile at scale: the no-drift pass over N jobs + N subscriptions",
            size=14,
            weight="bold",
        ),
        _text(LEFT, 34, escape(subtitle), fill="#555"),
    ]
    seconds = [p["seconds"] for p in points] + [p["cpu_seconds"] for p in points]
    targets = [(size, limit) for size, limit in reconciling.NO_DRIFT_SECONDS.items()]
    low = 10 ** math.floor(math.log10(max(min(seconds), 1e-3)))
    high = 10 ** math.ceil(math.log10(max(*seconds, *(limit for _, limit in targets))))
    time_panel = _Panel(LEFT, sizes, (low, high), log_y=True)
    parts += time_panel.frame("seconds (log)", [low * 10**k for k in range(_decades(low, high))])
    # Below the points: the targets' marks are above them.
    parts += time_panel.series(points, "seconds", TIME, _duration, below=True)
    parts += time_panel.series(points, "cpu_seconds", CPU, None, dashed=True)
    parts += [time_panel.target(size, limit, f"{limit:g} s") for size, limit in targets]
    parts += time_panel.legend([(TIME, "time (median)"), (CPU, "CPU of the controller")])
    rss = [p["peak_rss_mb"] for p in points]
    top = max(*rss, reconciling.RSS_LIMIT_MB) * 1.15
    rss_panel = _Panel(LEFT + PANEL_WIDTH + GAP, sizes, (0.0, top), log_y=False)
    step = 100 if top > 300 else 50
    parts += rss_panel.frame("peak RSS, MB", list(range(0, int(top) + 1, step)))
    parts += rss_panel.series(points, "peak_rss_mb", RSS, "{:.0f} MB".format)
    limit = reconciling.RSS_LIMIT_MB
    parts.append(rss_panel.target(reconciling.RSS_SIZE, limit, f"{limit:.0f} MB"))
    parts += rss_panel.legend([(RSS, "controller VmHWM")])
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


class _Panel:
    """One plot area: x is N on a log scale, y linear or log."""

    def __init__(
        self, left: float, sizes: Sequence[int], y_range: tuple[float, float], *, log_y: bool
    ) -> None:
        self.left, self.sizes, self.log_y = left, sizes, log_y
        self.y_low, self.y_high = y_range
        self.x_low = math.log10(min(sizes)) - 0.25
        self.x_high = math.log10(max(sizes)) + 0.25

    def x(self, size: float) -> float:
        share = (math.log10(size) - self.x_low) / (self.x_high - self.x_low)
        return self.left + share * PANEL_WIDTH

    def y(self, value: float) -> float:
        if self.log_y:
            low, high = math.log10(self.y_low), math.log10(self.y_high)
            share = (math.log10(max(value, self.y_low)) - low) / (high - low)
        else:
            share = (value - self.y_low) / (self.y_high - self.y_low)
        return TOP + PANEL_HEIGHT - share * PANEL_HEIGHT

    def frame(self, label: str, ticks: Sequence[float]) -> list[str]:
        bottom, right = TOP + PANEL_HEIGHT, self.left + PANEL_WIDTH
        parts = [
            f'<rect x="{self.left}" y="{TOP}" width="{PANEL_WIDTH}" height="{PANEL_HEIGHT}" '
            'fill="none" stroke="#888"/>',
            _text(self.left - 50, TOP - 8, label, fill="#333"),
            _text(self.left + PANEL_WIDTH / 2, bottom + 34, "N (log)", anchor="middle"),
        ]
        for tick in ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>'
            )
            parts.append(_text(self.left - 6, y + 4, f"{tick:g}", anchor="end"))
        for size in self.sizes:
            x = self.x(size)
            parts.append(
                f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" stroke="#eee"/>'
            )
            parts.append(_text(x, bottom + 16, f"{size:,}", anchor="middle"))
        return parts

    def series(
        self,
        points: Sequence[dict[str, float]],
        key: str,
        color: str,
        label: Callable[[float], str] | None,
        *,
        dashed: bool = False,
        below: bool = False,
    ) -> list[str]:
        xy = [(self.x(p["size"]), self.y(p[key])) for p in points]
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts = [f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"{dash}/>']
        for (x, y), point in zip(xy, points, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
            if label is not None and below:
                parts.append(_text(x + 6, y + 16, label(point[key])))
            elif label is not None:
                parts.append(_text(x, y - 9, label(point[key]), anchor="middle"))
        return parts

    def target(self, size: float, value: float, label: str) -> str:
        x, y = self.x(size), self.y(value)
        return (
            f'<line x1="{x - 14:.1f}" y1="{y:.1f}" x2="{x + 14:.1f}" y2="{y:.1f}" '
            f'stroke="{TARGET}" stroke-width="2"/>' + _text(x + 17, y + 4, label, fill=TARGET)
        )

    def legend(self, entries: Sequence[tuple[str, str]]) -> list[str]:
        parts = []
        for index, (color, label) in enumerate(entries):
            y = TOP + 14 + index * 15
            x = self.left + 8
            parts.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 16}" y2="{y - 4}" stroke="{color}" '
                'stroke-width="2"/>'
            )
            parts.append(_text(x + 22, y, label))
        parts.append(_text(self.left + 8, TOP + 14 + len(entries) * 15, "— target", fill=TARGET))
        return parts


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _decades(low: float, high: float) -> int:
    return round(math.log10(high / low)) + 1


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int | None = None,
    weight: str | None = None,
    fill: str = "#000",
    anchor: str = "start",
) -> str:
    style = (f' font-size="{size}"' if size else "") + (
        f' font-weight="{weight}"' if weight else ""
    )
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" fill="{fill}" text-anchor="{anchor}"{style}>{text}</text>'
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.plotting", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--input", type=Path, default=spawning.BENCH_DIR / "results.json")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    document = json.loads(args.input.read_text())
    if "reconcile" not in document.get("benchmarks", {}):
        print(f"{args.input} has no reconcile results: nothing to plot", file=sys.stderr)
        return 1
    args.output.write_text(render(document))
    print(f"{args.output} written from {args.input}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
