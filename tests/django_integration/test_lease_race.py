"""The lease under real concurrency on both databases it is written for: eight threads claim one
run at the same instant, each with its own connection, and exactly one of them runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.django_integration import postgres

SCRIPT = Path(__file__).with_name("lease_race.py")


def race(*arguments: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def expect_one_winner(found: dict) -> None:
    assert found["outcomes"] == ["run"] + ["running_elsewhere"] * 7
    assert (found["after"], found["status"]) == ("succeeded_before", "SUCCESSFUL")
    assert (found["attempts"], found["executions"]) == (1, 1)


@pytest.fixture(scope="module")
def postgresql():
    with postgres.running() as server:
        yield server


def test_on_postgresql(postgresql):
    expect_one_winner(race("postgresql", postgresql.host, str(postgresql.port), postgresql.user))


def test_on_sqlite(tmp_path):
    expect_one_winner(race("sqlite", str(tmp_path / "race.sqlite3")))
