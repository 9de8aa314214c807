"""Worker processes spoken to in JSON lines: the driver sends a command, the worker measures
itself and answers. Measured code never shares a process with the emulators or the driver."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
# A worker that answers nothing for this long is stuck; the biggest pass takes well under it.
REPLY_TIMEOUT_SECONDS = 900.0


class WorkerError(RuntimeError):
    """A worker failed a command or died; the message carries its traceback or log tail."""


class Worker:
    """One worker process: `call({"op": ...})` returns its JSON answer."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        BENCH_DIR.mkdir(exist_ok=True)
        self.name = name
        self.log_path = BENCH_DIR / f"{name}.log"
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def call(self, command: Mapping[str, Any]) -> dict[str, Any]:
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
        except BrokenPipeError as error:
            raise WorkerError(f"{self.name} exited: {self.log_tail()}") from error
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            raise WorkerError(
                f"{self.name} exited with {process.returncode} during {command.get('op')}: "
                f"{self.log_tail()}"
            )
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"{self.name} failed {command.get('op')}: {reply['error']}")
        return reply

    def close(self) -> None:
        process = self._process
        if process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        if not self._log.closed:
            self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


Handler = Callable[[dict[str, Any]], dict[str, Any]]


def serve(handlers: Mapping[str, Handler]) -> int:
    """The worker side: answer each command line on stdin until EOF. Anything else the process
    prints goes to stderr, so stdout carries only answers."""
    answers = _answer_channel()
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            reply = handlers[command["op"]](command)
        except Exception:  # reported to the driver, which raises it as WorkerError
            reply = {"error": traceback.format_exc()}
        answers.write(json.dumps(reply) + "\n")
        answers.flush()
    return 0


def _answer_channel() -> TextIO:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return answers


def peak_rss_mb() -> float:
    """This process's own peak resident set size in MB: `VmHWM`, the high-water mark of its
    memory map. Not `ru_maxrss`: Linux carries that over from the parent across fork and exec,
    so a worker started by a big driver would report the driver's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: ru_maxrss is the best there is (bytes on macOS)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> tuple[float, frozenset[str]]:
    """CPU time of a process's live threads to the nanosecond (`schedstat`; /proc/PID/stat
    counts clock ticks, 10 ms, too coarse for an idle process), and their ids: compare them
    between two readings, as threads that ended meanwhile are not counted."""
    total, threads = 0, []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended while being read
        threads.append(task.name)
    return total / 1e9, frozenset(threads)


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident set now (`VmRSS`) and its high-water mark (`VmHWM`), in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(line.split()[1]) / 1024
    return found


class Server:
    """A long-running process; one that `announces` prints one line (its address) when ready,
    which becomes `ready_line`; any other logs to `log_path`. `stop()` sends SIGTERM and waits."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        announces: bool = True,
        ready_timeout: float = 60.0,
    ) -> None:
        BENCH_DIR.mkdir(exist_ok=True)
        self.name = name
        self.log_path = BENCH_DIR / f"{name}.log"
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE if announces else self._log,
            stderr=self._log,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        self.ready_line = self._first_line(ready_timeout) if announces else ""

    @property
    def pid(self) -> int:
        return self._process.pid

    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()
        return self._process.returncode

    def log_tail(self, lines: int = 30) -> str:
        if not self._log.closed:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _first_line(self, timeout: float) -> str:
        import selectors

        assert self._process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.stop()
                raise WorkerError(f"{self.name} not ready within {timeout:g}s: {self.log_tail()}")
        line = self._process.stdout.readline().strip()
        if not line:
            self.stop()
            raise WorkerError(f"{self.name} exited before it was ready: {self.log_tail()}")
        return line

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
