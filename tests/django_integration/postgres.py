"""A throwaway PostgreSQL server for the tests that must see the real thing (the lease's
conditional UPDATE under concurrency). The server is on the machine image; missing, it fails."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path("/usr/lib/postgresql")
USER = "postgres"  # the server refuses to run as root: as root, it runs as this account


@dataclasses.dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str = USER


def _binary(name: str) -> str:
    found = sorted(BIN.glob(f"*/bin/{name}")) or [Path(p) for p in [shutil.which(name)] if p]
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return str(found[-1])


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running() -> Iterator[Server]:
    """initdb in a temporary directory, start on a free port, stop and delete afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="gcp-tasks-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, USER)
    subprocess.run(
        _as_server_user([_binary("initdb"), "-D", str(data), "-A", "trust", "-U", USER]),
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = _free_port()
    command = [_binary("postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1"]
    command += ["-k", str(directory), "-c", "fsync=off"]  # the socket beside the data
    server = subprocess.Popen(
        _as_server_user(command),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(
            [_binary("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
        ).returncode:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start (exit {server.poll()})")
            time.sleep(0.1)
        yield Server("127.0.0.1", port)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(directory, ignore_errors=True)
