"""Launching Google's own Pub/Sub emulator (Java, from the Google Cloud SDK) on a free port.

The emulator runs in its own process group and `stop()` ends the whole group: stopping a wrapper
(`gcloud beta emulators pubsub start`) alone leaves the JVM running. On Linux the JVM is also
told to die with the process that started it, so a killed test run leaves no orphan behind
(`process_groups`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib import error as url_errors
from urllib import request as url_requests

import structlog

from emulators import process_groups

logger = structlog.get_logger()

ENV_BIN = "PUBSUB_EMULATOR_BIN"
OPTIONS_ENV = "CLOUD_PUBSUB_EMULATOR_OPTS"  # JVM options, read by the emulator's script
SCRIPT = Path("platform/pubsub-emulator/bin/cloud-pubsub-emulator")
# Where the SDK lands with apt, the snap-less tarball and Homebrew, in case `gcloud` is not on PATH.
SDK_ROOTS = (
    Path("/usr/lib/google-cloud-sdk"),
    Path("/usr/share/google-cloud-sdk"),
    Path("/opt/google-cloud-sdk"),
    Path("~/google-cloud-sdk").expanduser(),
)
INSTALL_HINT = (
    "install the Google Cloud SDK's Pub/Sub emulator (`gcloud components install "
    "pubsub-emulator`, or the apt package `google-cloud-cli-pubsub-emulator`) and a Java 11+ "
    f"runtime, or point {ENV_BIN} at the `cloud-pubsub-emulator` script"
)


class EmulatorNotFound(RuntimeError):
    """The emulator script or Java is not installed: the message says what to install."""


class EmulatorFailed(RuntimeError):
    """The emulator started but did not become ready (or died); the message has its stderr tail."""


def find_script() -> Path:
    """The `cloud-pubsub-emulator` script: $PUBSUB_EMULATOR_BIN, else the gcloud SDK's."""
    override = os.environ.get(ENV_BIN)
    if override:
        path = Path(override).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise EmulatorNotFound(f"{ENV_BIN}={override} is not an executable file")
        return path
    roots = [root for root in (_gcloud_sdk_root(),) if root is not None] + list(SDK_ROOTS)
    for root in roots:
        candidate = root / SCRIPT
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    searched = ", ".join(str(root / SCRIPT) for root in roots)
    raise EmulatorNotFound(
        f"Google's Pub/Sub emulator was not found (looked in {searched}): {INSTALL_HINT}"
    )


def find_java() -> str:
    """The java executable the emulator script will use ($JAVA_HOME first, like the script)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise EmulatorNotFound(f"JAVA_HOME={java_home} has no bin/java: {INSTALL_HINT}")
    java = shutil.which("java")
    if java is None:
        raise EmulatorNotFound(f"Java is not installed (no `java` on PATH): {INSTALL_HINT}")
    return java


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the emulator takes a port number, not port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class PubSubEmulator:
    """One emulator process on host:port (0 = a free port); `.host` is what PUBSUB_EMULATOR_HOST
    takes."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        script: Path | None = None,
        ready_timeout: float = 60.0,
        jvm_options: Sequence[str] = (),
    ) -> None:
        self.bind_host = host
        self.port = port
        self.script = script
        self.ready_timeout = ready_timeout
        self.jvm_options = tuple(jvm_options)
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    @property
    def host(self) -> str:
        return f"{self.bind_host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> PubSubEmulator:
        if self._process is not None:
            return self
        script = self.script or find_script()
        find_java()
        if not self.port:
            self.port = free_port(self.bind_host)
        # A file, not a pipe: the JVM logs every request and would block on a full pipe.
        self._output = tempfile.TemporaryFile(prefix="pubsub-emulator-")  # noqa: SIM115 (closed in stop)
        environment = dict(os.environ)
        if self.jvm_options:
            # The script passes this variable to java after JAVA_OPTS.
            options = [environment.get(OPTIONS_ENV, ""), *self.jvm_options]
            environment[OPTIONS_ENV] = " ".join(option for option in options if option)
        self._process = process_groups.launch(
            [str(script), f"--host={self.bind_host}", f"--port={self.port}"],
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        logger.info("pubsub_emulator.started", host=self.host, pid=self._process.pid)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the whole process group (script and JVM) and wait until no member is left."""
        process, self._process = self._process, None
        if process is None:
            return
        process_groups.stop(process, timeout=timeout)
        if self._output is not None:
            self._output.close()
            self._output = None
        logger.info("pubsub_emulator.stopped", host=self.host, pid=process.pid)

    def output_tail(self, limit: int = 4000) -> str:
        """The end of the emulator's combined stdout/stderr, for error messages."""
        if self._output is None:
            return ""
        self._output.flush()
        self._output.seek(0, os.SEEK_END)
        size = self._output.tell()
        self._output.seek(max(0, size - limit))
        return self._output.read().decode(errors="replace")

    def __enter__(self) -> PubSubEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        assert self._process is not None
        url = f"http://{self.host}/"
        # No proxies: a developer's HTTP_PROXY must not swallow a request to localhost.
        opener = url_requests.build_opener(url_requests.ProxyHandler({}))
        deadline = time.monotonic() + self.ready_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise EmulatorFailed(
                    f"the Pub/Sub emulator exited with code {code} before it was ready on "
                    f"{self.host}; its output ends with:\n{self.output_tail()}"
                )
            with (
                contextlib.suppress(OSError, url_errors.URLError),
                opener.open(url, timeout=1.0) as response,
            ):
                if response.read().strip() == b"Ok":
                    return
            if time.monotonic() > deadline:
                raise EmulatorFailed(
                    f"the Pub/Sub emulator did not answer `Ok` on {url} within "
                    f"{self.ready_timeout:g}s; its output ends with:\n{self.output_tail()}"
                )
            time.sleep(0.1)


@functools.cache
def _gcloud_sdk_root() -> Path | None:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    try:
        result = subprocess.run(
            [gcloud, "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    root = result.stdout.strip()
    return Path(root) if result.returncode == 0 and root else None
