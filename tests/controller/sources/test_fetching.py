"""Fetching registry documents from files and URLs, with content hashes and conditional GETs."""

from __future__ import annotations

import hashlib
import os
import pathlib

import pytest

from controller.registry import documents
from controller.registry import errors as registry_errors
from controller.sources import fetching
from tests.controller import resources

from .conftest import DocumentServer


@pytest.mark.parametrize(
    ("location", "is_url"),
    [
        ("registry.json", False),
        ("/etc/registry.json", False),
        ("file:///tmp/x.json", False),
        ("http://localhost/x", True),
        ("https://example.com/registry.json", True),
    ],
)
def test_is_url(location: str, is_url: bool) -> None:
    assert fetching.is_url(location) is is_url


def test_file_content_and_digest(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b"{}")

    fetched = fetching.fetch(str(path))

    assert fetched.content == b"{}"
    assert fetched.digest == hashlib.sha256(b"{}").hexdigest()
    assert fetching.fetch(f"file://{path}").digest == fetched.digest


def test_an_unchanged_settled_file_is_not_read_again(tmp_path: pathlib.Path) -> None:
    """Polled every second, a file whose stat has not changed since it was read (and had
    settled then) comes back as the previous reading, without reading or hashing it."""
    path = tmp_path / "r.json"
    path.write_bytes(b'{"a": 1}')

    first = fetching.fetch(str(path), settled_after=0.0)
    again = fetching.fetch(str(path), previous=first, settled_after=0.0)
    assert first.stat is not None and again is first

    mtime = first.stat[3]
    path.write_bytes(b'{"a": 2}')  # same size...
    os.utime(path, ns=(mtime, mtime))  # ...and the same mtime: only its ctime moved
    changed = fetching.fetch(str(path), previous=first, settled_after=0.0)

    assert changed.content == b'{"a": 2}'


def test_a_file_changed_within_the_settling_time_is_read_every_time(
    tmp_path: pathlib.Path,
) -> None:
    """Its timestamps may not move for a change made within their tick: not trusted yet."""
    path = tmp_path / "r.json"
    path.write_bytes(b"{}")

    first = fetching.fetch(str(path))  # just written: not settled (2 s)
    again = fetching.fetch(str(path), previous=first)

    assert first.stat is None and again is not first and again.content == b"{}"


def test_a_file_replaced_by_a_rename_is_read_again(tmp_path: pathlib.Path) -> None:
    """How ConfigMap volumes and atomic writers change a file: a new inode under the name."""
    path, replacement = tmp_path / "r.json", tmp_path / "new.json"
    path.write_bytes(b'{"a": 1}')
    first = fetching.fetch(str(path), settled_after=0.0)
    replacement.write_bytes(b'{"a": 2}')
    replacement.replace(path)

    assert fetching.fetch(str(path), previous=first, settled_after=0.0).content == b'{"a": 2}'


def test_missing_file_is_a_source_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(fetching.SourceError) as raised:
        fetching.fetch(str(tmp_path / "nope.json"))

    assert str(raised.value).startswith(str(tmp_path / "nope.json"))


def test_url_is_fetched_conditionally(document_server: DocumentServer) -> None:
    document_server.content = b'{"a": 1}'

    first = fetching.fetch(document_server.url)
    again = fetching.fetch(document_server.url, previous=first)
    document_server.content = b'{"a": 2}'
    changed = fetching.fetch(document_server.url, previous=first)

    assert again is first
    assert changed.content == b'{"a": 2}' and changed.digest != first.digest
    assert document_server.answers == [200, 304, 200]


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_are_source_errors(document_server: DocumentServer, status: int) -> None:
    document_server.status = status

    with pytest.raises(fetching.SourceError, match=f"HTTP {status}"):
        fetching.fetch(document_server.url)


def test_unreachable_server_is_a_source_error() -> None:
    with pytest.raises(fetching.SourceError, match="cannot fetch"):
        fetching.fetch("http://127.0.0.1:9/registry.json", timeout=2)


def test_load_parses_with_the_location_as_source(
    document_server: DocumentServer, tmp_path: pathlib.Path
) -> None:
    registry = resources.registry("shop-project", jobs=(resources.job(),))
    document_server.content = documents.render(registry).encode()

    loaded = fetching.load(document_server.url)

    assert loaded.source == document_server.url
    assert loaded.scheduler_jobs == registry.scheduler_jobs
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(registry_errors.RegistryError) as raised:
        fetching.load(str(bad))
    assert raised.value.source == str(bad)
