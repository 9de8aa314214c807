"""Instructions per request of the task endpoint beside the bare view, counted by valgrind's
callgrind: a steadier second measure than CPU time on a shared machine, as it counts the work
itself, whatever else the cores are running.

`python -m benchmarks.instructions [--requests N] [--markdown PATH]` (`make bench-instructions`,
about five minutes) counts two scopes:

- **server**: the endpoint benchmark's own server processes (`endpoints.serving`) under callgrind,
  asked one request at a time over HTTP; the counters are zeroed before a variant's requests and
  dumped after them (`callgrind_control`). Everything the server process runs in user space is
  counted: the HTTP server, its threads, Django. Not the kernel's work (accepting, reading,
  writing, starting a thread per connection), the same for every variant, which the CPU time of
  the endpoint benchmark includes.
- **app**: the Django application alone: the same site in a process of its own per variant, its
  WSGI application called in-process after warm-up; callgrind collects inside
  `itertools.starmap`'s `__next__` alone, which drives the calls.
"""

from __future__ import annotations

import argparse
import collections
import io
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import endpoints, provisioning, reporting, results, spawning
from emulators import oidc, running

APP_VARIANTS = ("bare", "endpoint", "endpoint-logged", "endpoint-no-auth")
DOMAIN = "http://127.0.0.1:8000"  # the app scope's GCP_TASKS_DOMAIN: the tokens' audience
WARMUP_REQUESTS = 20
# The C function of CPython that calls the measured function: callgrind counts inside it only.
COUNTED_FUNCTION = "starmap_next"
CALLGRIND = ("valgrind", "--tool=callgrind")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions",
        description="Instructions per request of the task endpoint and the bare view, by callgrind",
    )
    parser.add_argument("--requests", type=int, default=200, help="counted requests per variant")
    parser.add_argument("--markdown", type=Path, help="also write the table as markdown")
    parser.add_argument(
        "--django-gcp-venv", type=Path, default=provisioning.VENV, help=argparse.SUPPRESS
    )
    parser.add_argument("--inside", choices=APP_VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inside:
        call_in_process(args.inside, args.requests)
        return 0
    python = provisioning.django_gcp_python(args.django_gcp_venv)
    server = count_server(args.requests, django_gcp_python=python)
    app = {variant: count_app(variant, args.requests) for variant in APP_VARIANTS}
    table = _table(server, app, args.requests)
    print(reporting.render(table))
    if args.markdown:
        args.markdown.write_text(reporting.render_markdown(table) + "\n")
    return 0


def count_server(requests: int, *, django_gcp_python: Path) -> dict[str, float]:
    """Instructions per request of each variant's server process, over HTTP."""
    profiles = spawning.BENCH_DIR / "callgrind"
    profiles.mkdir(parents=True, exist_ok=True)
    for stale in profiles.glob("server-*"):
        stale.unlink()

    def under_callgrind(name: str) -> Sequence[str]:
        out = profiles / f"server-{name}.out"
        return (*CALLGRIND, f"--callgrind-out-file={out}", f"--log-file={out}.log")

    counted = {}
    with endpoints.serving(django_gcp_python=django_gcp_python, wrapped=under_callgrind) as sites:
        for target in sites.values():
            target.load(seconds=None, clients=1, requests=WARMUP_REQUESTS)
        for variant, target in sites.items():
            pid = str(target.server.pid)
            subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
            target.load(seconds=None, clients=1, requests=requests)
            dumps = set(profiles.glob("server-*.out.*[0-9]"))
            subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
            dump = _new_file(profiles, "server-*.out.*[0-9]", dumps)
            counted[variant] = _total(dump.read_text()) / requests
    return counted


def _new_file(directory: Path, pattern: str, known: set[Path]) -> Path:
    deadline = time.monotonic() + 30
    while not (new := set(directory.glob(pattern)) - known):
        if time.monotonic() > deadline:
            raise RuntimeError(f"callgrind wrote no dump matching {pattern} in {directory}")
        time.sleep(0.1)
    [path] = new
    return path


def count_app(variant: str, requests: int) -> float:
    """Instructions per request of `variant` in-process, from a callgrind run of its own."""
    profiles = spawning.BENCH_DIR / "callgrind"
    profiles.mkdir(parents=True, exist_ok=True)
    out = profiles / f"app-{variant}.out"
    argv = [
        *CALLGRIND,
        "--collect-atstart=no",
        f"--toggle-collect={COUNTED_FUNCTION}",
        f"--callgrind-out-file={out}",
        f"--log-file={out}.log",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--inside",
        variant,
        "--requests",
        str(requests),
    ]
    with Path(f"{out}.stderr").open("w") as stderr:  # the logged variant's lines
        subprocess.run(argv, cwd=spawning.ROOT, stderr=stderr, check=True)
    total = _total(out.read_text())
    if not total:
        raise RuntimeError(
            f"callgrind counted nothing in {COUNTED_FUNCTION}: this Python's library lacks the "
            "symbol (a stripped build?)"
        )
    return total / requests


def call_in_process(variant: str, requests: int) -> None:
    """The app scope's counted side: the site in this process, `requests` calls after warm-up."""
    site = "endpoint" if variant == "bare" else variant
    os.environ.update(
        DJANGO_SETTINGS_MODULE=endpoints.SETTINGS,
        GCP_TASKS_DOMAIN=DOMAIN,
        **endpoints.SITE_ENVIRONMENT[site],
    )
    with oidc.Issuer() as issuer:
        os.environ[running.CERTS_ENV] = issuer.certs_url
        from django.core.wsgi import get_wsgi_application

        call = _caller(get_wsgi_application(), variant, issuer)
        for _ in range(WARMUP_REQUESTS):  # certificates fetched, caches filled
            call()
    # The issuer's thread is stopped before counting; the certificates stay cached.
    collections.deque(itertools.starmap(call, itertools.repeat((), requests)), maxlen=0)


def _caller(app: Callable[..., Any], variant: str, issuer: oidc.Issuer) -> Callable[[], None]:
    path = endpoints.BARE_PATH if variant == "bare" else endpoints.TASK_PATH
    headers = dict(endpoints.CLOUD_TASKS_HEADERS)
    if variant in ("endpoint", "endpoint-logged"):
        token = issuer.token(f"{DOMAIN}{path}", endpoints.SERVICE_ACCOUNT)
        headers["Authorization"] = f"Bearer {token}"
    environ = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(endpoints.BODY)),
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"POST {path}: {status}")

    def call() -> None:
        response = app({**environ, "wsgi.input": io.BytesIO(endpoints.BODY)}, start_response)
        b"".join(response)
        response.close()

    return call


def _total(profile: str) -> int:
    for line in profile.splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise RuntimeError("no totals in the callgrind output")


def _table(server: dict[str, float], app: dict[str, float], requests: int) -> results.Table:
    def cells(counts: dict[str, float], variant: str) -> tuple[str, str]:
        if variant not in counts:
            return "-", "-"
        return f"{counts[variant] / 1000:,.0f}", results.ratio(counts[variant] / counts["bare"])

    return results.Table(
        title=f"Instructions per request (callgrind, {requests} requests per variant after "
        f"{WARMUP_REQUESTS} to warm up)",
        columns=(
            "variant",
            "server k instructions/req",
            "server vs bare",
            "app k instructions/req",
            "app vs bare",
        ),
        rows=tuple(
            (endpoints.LABELS[variant], *cells(server, variant), *cells(app, variant))
            for variant in endpoints.VARIANTS
        ),
        notes=(
            "server: the benchmark's server process over HTTP (stdlib threaded WSGI server and "
            "Django), user space only: the kernel's work per connection is not counted",
            "app: the Django application alone, its WSGI app called in-process",
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
