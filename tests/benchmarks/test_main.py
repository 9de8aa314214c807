"""`python -m benchmarks`: one benchmark at its smallest size, the table and the JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import __main__ as cli


@pytest.mark.timeout(120)
def test_main_prints_the_table_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output, markdown = tmp_path / "results.json", tmp_path / "results.md"
    argv = ["--profile", "smoke", "--only", "endpoint", "--output", str(output)]
    argv += ["--markdown", str(markdown)]
    assert cli.main(argv) == 0

    printed = capsys.readouterr().out
    assert "Task endpoint over HTTP" in printed
    assert "Targets" in printed
    document = json.loads(output.read_text())
    assert sorted(document["benchmarks"]) == ["endpoint"]
    assert document["profile"]["name"] == "smoke"
    assert document["machine"]["nproc"] >= 1
    assert {target["benchmark"] for target in document["targets"]} == {"endpoint"}
    assert "| variant | requests/s |" in markdown.read_text()
    assert "| benchmark | target | measured | status |" in markdown.read_text()


@pytest.mark.parametrize(
    ("argv", "sizes", "resync"),
    [
        ([], (100, 1000, 5000, 20000), 5.0),
        (["--quick"], (100, 1000), 2.0),
        (["--quick", "--sizes", "10,20", "--resync-seconds", "3"], (10, 20), 3.0),
    ],
)
def test_profiles_from_arguments(argv: list[str], sizes: tuple[int, ...], resync: float) -> None:
    profile = cli.profile_of(cli.parse(argv))
    assert profile.reconcile_sizes == sizes
    assert profile.resync_seconds == resync
