"""`make demo` (`python -m examples.demo`) runs the main job end to end and exits 0."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_demo_detects_and_fixes_drift() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    drift = [line for line in lines if "drift_detected" in line]
    assert any("field=schedule" in line and "actual='*/5 * * * *'" in line for line in drift)
    assert any("field=paused" in line and "actual=True" in line for line in drift)
    fixes = [line for line in lines if "action_applied" in line]
    assert any("verb=update" in line and "fields=['schedule']" in line for line in fixes)
    assert any("verb=resume" in line for line in fixes)
    assert any(
        "verb=create" in line and "shop--orders--ordereventssubscriber" in line
        for line in fixes[2:]  # after the first pass's two creates: the deleted one, recreated
    )
    assert "drift found and fixed" in result.stdout
