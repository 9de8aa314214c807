"""The command line itself: usage errors are invalid input (exit 2), help exits 0."""

from __future__ import annotations

import pytest

from controller.cli import exits, main


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["reconcile"],  # --registry is required
        ["reconcile", "--registry", "r.json", "--orphans", "burn"],
        ["reconcile", "--registry", "r.json", "--max-deletion-ratio", "1.5"],
        ["plan", "--registry", "r.json", "--writes-per-second", "0"],
        ["run", "--registry", "r.json", "--log-format", "xml"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(argv) == exits.INVALID
    assert "usage: gcp-tasks-controller" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["--help"], "reconcile"),
        (["reconcile", "--help"], "--dry-run"),
        (["run", "--help"], "--resync-seconds"),
    ],
)
def test_help_exits_0(argv: list[str], mentions: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(argv) == exits.CONVERGED
    assert mentions in capsys.readouterr().out
