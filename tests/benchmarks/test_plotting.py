"""The scale curve: an SVG drawn from the results document, with the targets marked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from benchmarks import plotting, reconciling
from tests.benchmarks import results_documents

SIZES = results_documents.reconcile_sizes(
    n100=(0.012, 0.008, 74.0),
    n1000=(0.07, 0.05, 82.0),
    n5000=(0.38, 0.27, 110.0),
    n20000=(1.6, 1.1, 215.0),
)
SVG = "{http://www.w3.org/2000/svg}"


def test_the_curve_is_read_from_the_results_in_size_order() -> None:
    document = results_documents.document({"reconcile": {"data": {"sizes": SIZES}}})

    points = plotting.scale_curve(document)

    assert [p["size"] for p in points] == [100, 1000, 5000, 20000]
    assert points[-1] == {"size": 20000, "seconds": 1.6, "cpu_seconds": 1.1, "peak_rss_mb": 215.0}


def test_the_svg_shows_every_point_value_and_target(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    output = tmp_path / "scale.svg"
    results.write_text(
        json.dumps(results_documents.document({"reconcile": {"data": {"sizes": SIZES}}}))
    )

    assert plotting.main(["--input", str(results), "--output", str(output)]) == 0

    root = ElementTree.fromstring(output.read_text())  # well-formed XML
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert {"12 ms", "70 ms", "380 ms", "1.60 s"} <= set(texts)
    assert {"74 MB", "215 MB"} <= set(texts)
    limits = {f"{limit:g} s" for limit in reconciling.NO_DRIFT_SECONDS.values()}
    assert limits | {f"{reconciling.RSS_LIMIT_MB:.0f} MB"} <= set(texts)
    assert len(list(root.iter(f"{SVG}circle"))) == 3 * len(SIZES)  # time, CPU, RSS
    assert "full run of 2026-01-02T03:04:05+00:00" in "".join(texts)


def test_results_without_the_reconcile_benchmark_are_refused(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(results_documents.document({})))

    assert plotting.main(["--input", str(results), "--output", str(tmp_path / "x.svg")]) == 1
    assert not (tmp_path / "x.svg").exists()
