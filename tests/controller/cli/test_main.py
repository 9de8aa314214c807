"""The command line itself: usage errors are invalid input (exit 2), help exits 0, and a missing
controller extra is named."""

from __future__ import annotations

import subprocess
import sys

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
    "argv",
    [
        ["run", "--registry", "r.json", "--resync-seconds", "-1"],
        ["run", "--registry", "r.json", "--resync-seconds", "0"],
        ["run", "--registry", "r.json", "--resync-seconds", "nan"],
        ["run", "--registry", "r.json", "--resync-seconds", "inf"],
        ["run", "--registry", "r.json", "--poll-seconds", "0"],
        ["run", "--registry", "r.json", "--poll-seconds", "nan"],
        ["reconcile", "--registry", "r.json", "--writes-per-second", "nan"],
    ],
)
def test_seconds_and_rates_must_be_positive_numbers(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(argv) == exits.INVALID
    assert f"argument {argv[3]}: must be a positive number, not {argv[4]}" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("reference", ["gcp-tasks", "/name", "ns/"])
def test_the_resync_configmap_must_be_namespace_slash_name(
    reference: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(["run", "--resync-configmap", reference]) == exits.INVALID
    assert "expected NAMESPACE/NAME for the resync ConfigMap" in capsys.readouterr().err


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


@pytest.mark.parametrize("missing", ["kopf", "prometheus_client"])
def test_a_missing_controller_extra_is_named_in_one_line(missing: str) -> None:
    # A fresh interpreter in which the package cannot be imported, as without the extra.
    script = (
        f"import sys; sys.modules[{missing!r}] = None; from controller.cli import main; "
        "sys.exit(main.main(['run', '--help']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == exits.INVALID
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"gcp-tasks-controller: {missing} is not installed; the controller needs the "
        f"'{main.EXTRA}' extra: pip install 'gcp-tasks-controller[{main.EXTRA}]'"
    ]
