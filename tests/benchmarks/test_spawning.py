"""Worker processes answer JSON lines; failures come back as errors that say why."""

from __future__ import annotations

import sys

import pytest

from benchmarks import spawning

WORKER = """
import sys
from benchmarks import spawning
def double(command):
    print("stray output goes to stderr")
    return {"value": command["value"] * 2}
def fail(command):
    raise ValueError("broken on purpose")
sys.exit(spawning.serve({"double": double, "fail": fail}))
"""


def test_a_worker_answers_and_reports_failures() -> None:
    with spawning.Worker([sys.executable, "-c", WORKER], name="test-worker") as worker:
        assert worker.call({"op": "double", "value": 21}) == {"value": 42}
        with pytest.raises(spawning.WorkerError, match="ValueError: broken on purpose"):
            worker.call({"op": "fail"})
        assert worker.call({"op": "double", "value": 1}) == {"value": 2}
    assert "stray output goes to stderr" in worker.log_path.read_text()


def test_a_dead_worker_is_an_error_with_its_log() -> None:
    argv = [sys.executable, "-c", "import sys; print('dying', file=sys.stderr); sys.exit(3)"]
    with (
        spawning.Worker(argv, name="test-dead-worker") as worker,
        pytest.raises(spawning.WorkerError, match=r"exited with 3 during anything: dying"),
    ):
        worker.call({"op": "anything"})


def test_a_server_announces_its_address_and_stops() -> None:
    script = "import time; print('127.0.0.1:1234', flush=True); time.sleep(60)"
    server = spawning.Server([sys.executable, "-c", script], name="test-server")
    assert server.ready_line == "127.0.0.1:1234"
    assert server.running()
    assert server.stop() != 0  # ended by SIGTERM
    assert not server.running()


def test_a_server_that_never_announces_is_an_error() -> None:
    with pytest.raises(spawning.WorkerError, match="exited before it was ready"):
        spawning.Server([sys.executable, "-c", "pass"], name="test-silent-server")
