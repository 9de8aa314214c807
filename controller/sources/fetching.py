"""Reading registry documents from files and http(s) URLs, with a content hash for change detection.

URLs are fetched with conditional requests (`If-None-Match` / `If-Modified-Since`) so polling a
server every second costs a 304 when nothing changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import urllib.parse

import requests

from controller.registry import documents, model

TIMEOUT_SECONDS = 10.0


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


def is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme in ("http", "https")


def fetch(
    location: str,
    *,
    previous: Fetched | None = None,
    session: requests.Session | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Fetched:
    """The current content of `location`; a URL answering 304 to `previous` returns `previous`."""
    if not is_url(location):
        path = pathlib.Path(location.removeprefix("file://"))
        try:
            content = path.read_bytes()
        except OSError as error:
            raise SourceError(location, error.strerror or str(error)) from error
        return Fetched(location, content, _digest(content))
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


def load(location: str, *, timeout: float = TIMEOUT_SECONDS) -> model.Registry:
    """Fetch and parse one source; raises `SourceError` or `RegistryError`."""
    return parse(fetch(location, timeout=timeout))


def parse(fetched: Fetched) -> model.Registry:
    return documents.parse(fetched.content, fetched.location)


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
