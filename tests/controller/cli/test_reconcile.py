"""`gcp-tasks-controller reconcile`: exit codes, everything parsed before any write, one pass."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import grpc
import pytest
from google.cloud import scheduler_v1

from controller.cli import exits, main
from controller.registry import model
from emulators import running
from tests.controller import resources

from .conftest import WriteRegistry, json_events

EXECUTABLE = pathlib.Path(sys.executable).parent / "gcp-tasks-controller"


def _registry(project: str) -> model.Registry:
    return resources.registry(
        project,
        jobs=(resources.job("cleanup"), resources.job("report", paused=True)),
        subs=(resources.subscription(),),
    )


def test_converges_then_writes_nothing(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_registry(_registry(project))

    assert main.main(["reconcile", "--registry", str(path), "--writes-per-second", "100"]) == 0
    assert emulators.requests.count("CreateJob") == 2
    emulators.requests.clear()
    capsys.readouterr()

    assert main.main(["reconcile", "--registry", str(path), "--log-format", "json"]) == 0

    assert emulators.requests.writes() == []
    events = json_events(capsys.readouterr().err)
    assert [e for e in events if e["event"] == "drift_detected"] == []
    (summary,) = [e for e in events if e["event"] == "reconcile_pass"]
    assert summary["writes"] == 0 and summary["unchanged"] == 3


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"apiVersion": "gcptasks.dev/v1", "kind": "TaskRegistry"}),
        None,  # a path that does not exist
    ],
    ids=["not-json", "no-spec", "missing-file"],
)
def test_invalid_input_exits_2_and_touches_nothing(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
) -> None:
    good = write_registry(_registry(project))
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)

    code = main.main(["reconcile", "--registry", str(good), "--registry", str(bad)])

    assert code == exits.INVALID
    assert emulators.requests.count() == 0  # not even a List: parsing comes first
    assert "invalid input, nothing changed" in capsys.readouterr().err


def test_two_sources_claiming_a_job_exit_2(
    emulators: running.Service, project: str, write_registry: WriteRegistry
) -> None:
    first = write_registry(_registry(project), "a.json")
    second = write_registry(
        resources.registry(
            project, jobs=(resources.job("cleanup"),), owner="other", affix="shop", source="b"
        ),
        "b.json",
    )

    assert main.main(["reconcile", "--registry", str(first), "--registry", str(second)]) == 2
    assert emulators.requests.count() == 0


def test_a_write_rejected_by_the_api_exits_1(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Valid input, but Pub/Sub answers NOT_FOUND: the topic is missing and may not be created.
    registry = resources.registry(
        project,
        jobs=(resources.job("cleanup"),),
        subs=(resources.subscription(create_topic=False),),
    )
    path = write_registry(registry)

    code = main.main(["reconcile", "--registry", str(path), "--log-format", "json"])

    assert code == exits.FAILED
    assert emulators.requests.count("CreateJob") == 1  # the rest of the plan was still applied
    (failed,) = [e for e in json_events(capsys.readouterr().err) if e["event"] == "action_failed"]
    assert (failed["name"], failed["error"]) == ("shop--orders--order-created", "NOT_FOUND")


def test_a_create_whose_answer_was_lost_exits_0(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Google made the job, but the answer never came back: the retry meets ALREADY_EXISTS.
    emulators.faults.inject("CreateJob", grpc.StatusCode.DEADLINE_EXCEEDED, after=True)
    path = write_registry(_registry(project))

    code = main.main(["reconcile", "--registry", str(path), "--log-format", "json"])

    assert code == exits.CONVERGED
    assert len(emulators.faults.fired) == 1
    events = json_events(capsys.readouterr().err)
    assert [e for e in events if e["event"] == "action_failed"] == []
    assert [e["verbs"] for e in events if e["event"] == "already_exists"] == [["unchanged"]]


def test_dry_run_exits_0_and_writes_nothing(
    emulators: running.Service, project: str, write_registry: WriteRegistry
) -> None:
    path = write_registry(_registry(project))

    assert main.main(["reconcile", "--registry", str(path), "--dry-run"]) == 0
    assert emulators.requests.writes() == []


def test_a_refused_plan_exits_1_and_its_dry_run_0_like_plan(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jobs = tuple(resources.job(name) for name in ("a", "b", "c"))
    first = write_registry(resources.registry(project, jobs=jobs))
    assert main.main(["reconcile", "--registry", str(first)]) == exits.CONVERGED
    # Two of the three owned jobs to delete: above the default ratio of one half.
    path = write_registry(resources.registry(project, jobs=jobs[:1]))
    emulators.requests.clear()
    capsys.readouterr()

    assert main.main(["reconcile", "--registry", str(path)]) == exits.FAILED
    assert main.main(["reconcile", "--registry", str(path), "--dry-run"]) == exits.CONVERGED
    assert main.main(["plan", "--registry", str(path)]) == exits.CONVERGED

    assert emulators.requests.writes() == []
    assert "REFUSED, nothing would be applied: refusing to delete 2 of 3" in capsys.readouterr().out


def test_an_export_that_lost_its_periodic_tasks_is_refused_until_allowed(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    subs = tuple(resources.subscription(f"event-{i}") for i in range(4))
    before = resources.registry(project, jobs=(resources.job("cleanup"),), subs=subs)
    assert main.main(["reconcile", "--registry", str(write_registry(before))]) == 0
    # Deleting 1 of 5 owned resources is under the ratio; it is every job the owner has.
    path = write_registry(resources.registry(project, subs=subs))
    emulators.requests.clear()
    capsys.readouterr()

    assert main.main(["reconcile", "--registry", str(path), "--log-format", "json"]) == 1

    assert emulators.requests.writes() == []
    (refused,) = [e for e in json_events(capsys.readouterr().err) if e["event"] == "plan_refused"]
    assert "1 of 1 scheduler_jobs of owner 'shop' (all of them)" in refused["reason"]

    assert main.main(["reconcile", "--registry", str(path), "--allow-mass-deletion"]) == 0
    assert [w.method for w in emulators.requests.writes()] == ["DeleteJob"]


def test_console_script_in_a_subprocess(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    path = write_registry(_registry(project))

    result = subprocess.run(
        [str(EXECUTABLE), "reconcile", "--registry", str(path), "--log-format", "json"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    events = json_events(result.stderr)
    applied = sorted(e["name"] for e in events if e["event"] == "action_applied")
    assert applied == [
        "shop--cleanup",
        "shop--orders--order-created",
        "shop--report",
        "shop--report",
    ]
    (summary,) = [e for e in events if e["event"] == "reconcile_pass"]
    assert summary["create"] == 3 and summary["pause"] == 1 and summary["converged"] is True
    parent = f"projects/{project}/locations/{resources.LOCATION}"
    assert len(list(scheduler_api.list_jobs(parent=parent))) == 2
