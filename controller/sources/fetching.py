"""Reading registry documents from files and http(s) URLs, with a content hash for change detection.

Polling every second is cheap when nothing changed: a file whose `stat` is the same as when it
was read is not read again (a registry of 1,000 + 1,000 is ~1.5 MB to read and hash), and URLs
are fetched with conditional requests (`If-None-Match` / `If-Modified-Since`), costing a 304.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import time
import urllib.parse

import requests

from controller.registry import documents, model

TIMEOUT_SECONDS = 10.0
# A file changed this recently may change again within one tick of its timestamps without its
# `stat` showing it (git's "racily clean" files): its stat is trusted only once it is older.
SETTLED_SECONDS = 2.0

FileStat = tuple[int, int, int, int, int]  # device, inode, size, mtime and ctime in ns


class SourceError(Exception):
    """A source could not be read (missing file, HTTP error, unreachable server)."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(location, message)
        self.location = location
        self.message = message

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Fetched:
    """The bytes of one source and their SHA-256 (hex)."""

    location: str
    content: bytes
    digest: str
    etag: str = ""
    last_modified: str = ""
    stat: FileStat | None = None  # a file's, when settled: unchanged, it need not be read again


def is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme in ("http", "https")


def fetch(
    location: str,
    *,
    previous: Fetched | None = None,
    session: requests.Session | None = None,
    timeout: float = TIMEOUT_SECONDS,
    settled_after: float = SETTLED_SECONDS,
) -> Fetched:
    """The current content of `location`; `previous` comes back as it is when the source shows
    it is unchanged (a file with the same settled `stat`, a URL answering 304)."""
    if not is_url(location):
        return _fetch_file(location, previous, settled_after)
    headers = {}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    try:
        response = (session or requests).get(location, headers=headers, timeout=timeout)
    except requests.RequestException as error:
        raise SourceError(location, f"cannot fetch: {error}") from error
    if response.status_code == 304 and previous is not None:
        return previous
    if response.status_code != 200:
        raise SourceError(location, f"HTTP {response.status_code} {response.reason}")
    content = response.content
    return Fetched(
        location,
        content,
        _digest(content),
        etag=response.headers.get("ETag", ""),
        last_modified=response.headers.get("Last-Modified", ""),
    )


def _fetch_file(location: str, previous: Fetched | None, settled_after: float) -> Fetched:
    path = pathlib.Path(location.removeprefix("file://"))
    try:
        found = path.stat()  # follows symlinks: a ConfigMap volume's swap is a new inode
        stat = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
        if previous is not None and previous.stat == stat:
            return previous
        content = path.read_bytes()
    except OSError as error:
        raise SourceError(location, error.strerror or str(error)) from error
    changed = max(found.st_mtime_ns, found.st_ctime_ns) / 1e9
    settled = time.time() - changed >= settled_after
    return Fetched(location, content, _digest(content), stat=stat if settled else None)


def load(location: str, *, timeout: float = TIMEOUT_SECONDS) -> model.Registry:
    """Fetch and parse one source; raises `SourceError` or `RegistryError`."""
    return parse(fetch(location, timeout=timeout))


def parse(fetched: Fetched) -> model.Registry:
    return documents.parse(fetched.content, fetched.location)


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
