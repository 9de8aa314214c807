"""`make demo` (`python -m examples.demo`) runs the main job end to end and exits 0."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
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
    return result


def test_demo_detects_and_fixes_drift(demo: subprocess.CompletedProcess[str]) -> None:
    lines = demo.stdout.splitlines()
    drift = [line for line in lines if "drift_detected" in line]
    assert any("field=schedule" in line and "actual='*/5 * * * *'" in line for line in drift)
    assert any("field=paused" in line and "actual=True" in line for line in drift)
    fixes = [line for line in lines if "action_applied" in line]
    assert any("verb=update" in line and "fields=['schedule']" in line for line in fixes)
    assert any("verb=resume" in line for line in fixes)
    # After the first pass's three creates (two jobs, one subscription): the deleted one, again.
    first_pass = [line for line in fixes if "verb=create" in line][:3]
    assert any("shop--purge_abandoned_carts" in line for line in first_pass)
    assert any(
        "verb=create" in line and "shop--orders--ordereventssubscriber" in line
        for line in fixes[3:]
    )
    assert "drift found and fixed" in demo.stdout


def test_demo_runs_a_django_task_and_reads_its_result_back(
    demo: subprocess.CompletedProcess[str],
) -> None:
    lines = demo.stdout.splitlines()
    pushed = [
        line for line in lines if "POST /gcp/django-tasks/examples.shop.tasks.send_receipt" in line
    ]
    assert len(pushed) == 1 and '" 200 ' in pushed[0], pushed
    assert any('"event": "receipt_sent"' in line and '"order_id": 42' in line for line in lines)
    assert any(
        "Read back with get_result: SUCCESSFUL, return value "
        "{'order_id': 42, 'sent_to': 'ada@example.com'}" in line
        for line in lines
    )
