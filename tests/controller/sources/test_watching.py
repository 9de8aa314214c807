"""Watching sources: changes noticed by hash, the last good registry kept through bad content."""

from __future__ import annotations

import pathlib
import time
from typing import Any

import pytest
import structlog

from controller.registry import documents
from controller.sources import fetching, watching
from tests.controller import resources

from .conftest import DocumentServer


def _document(schedule: str = "0 3 * * *") -> str:
    return documents.render(
        resources.registry("shop-project", jobs=(resources.job(schedule=schedule),))
    )


def test_poll_reports_changes_only(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(_document())
    watch = watching.Watch([str(path)])

    assert watch.poll() is True
    assert watch.poll() is False
    path.write_text(_document())  # rewritten, same bytes
    assert watch.poll() is False
    path.write_text(_document(schedule="0 4 * * *"))
    assert watch.poll() is True
    assert [r.scheduler_jobs[0].schedule for r in watch.registries] == ["0 4 * * *"]


def test_a_file_is_no_longer_read_once_it_has_settled(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read while it may still change within its timestamps' tick, then only stat'ed."""
    path = tmp_path / "r.json"
    path.write_text(_document())
    readings: list[tuple[object, object]] = []
    fetch = fetching.fetch

    def spied(location: str, **options: Any) -> fetching.Fetched:
        found = fetch(location, **options)
        readings.append((options["previous"], found))
        return found

    monkeypatch.setattr(fetching, "fetch", spied)
    watch = watching.Watch([str(path)])
    assert watch.poll() is True
    assert watch.poll() is False
    time.sleep(fetching.SETTLED_SECONDS + 0.1)
    assert watch.poll() is False  # read once more: settled now, its stat is kept
    assert watch.poll() is False
    assert watch.poll() is False

    reused = [found is previous for previous, found in readings]
    assert reused == [False, False, False, True, True]


def test_same_registry_in_new_formatting_is_no_change(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(_document())
    watch = watching.Watch([str(path)])
    watch.poll()

    path.write_text(_document() + "\n\n")

    assert watch.poll() is False


def test_invalid_or_missing_source_keeps_the_last_good_registry(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(_document())
    watch = watching.Watch([str(path)])
    watch.poll()
    good = watch.registries

    with structlog.testing.capture_logs() as logs:
        path.write_text('{"apiVersion": "gcptasks.dev/v1"}')
        assert watch.poll() is False
        assert watch.poll() is False  # same bad bytes: logged once
        path.unlink()
        assert watch.poll() is False
        assert watch.poll() is False

    assert watch.registries == good
    assert set(watch.errors) == {str(path)}
    assert [(e["event"], e["kept_last_good"]) for e in logs] == [
        ("registry_invalid", True),
        ("registry_unreadable", True),
    ]

    path.write_text(_document(schedule="0 5 * * *"))
    assert watch.poll() is True
    assert watch.errors == {}


def test_a_source_invalid_from_the_start_contributes_nothing(
    tmp_path: pathlib.Path, document_server: DocumentServer
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    document_server.content = _document().encode()
    watch = watching.Watch([str(bad), document_server.url])

    assert watch.poll() is True
    assert [r.source for r in watch.registries] == [document_server.url]
    assert list(watch.errors) == [str(bad)]
    watch.poll()
    assert document_server.answers == [200, 304]
    watch.close()
