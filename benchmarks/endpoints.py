"""Benchmark 2, the execution endpoint: the task endpoint with OIDC verification on and off, and
django-gcp's, against a bare Django view that only parses JSON, over a real HTTP server with
concurrent clients.

Each site runs in its own process (the stdlib WSGI server, a thread per connection or serial;
django-gcp's in its own environment); the clients run here, each request on a fresh connection as
the stdlib server speaks HTTP/1.0, with the headers Cloud Tasks sends. Besides requests/s, the
server's own CPU time per request is read from /proc: unlike the rate, it does not depend on the
clients sharing the machine, and it is what the target is about. Tokens come from the local OIDC
issuer, whose certificate URL the site is pointed at; the site counts certificate fetches.
"""

from __future__ import annotations

import collections
import http.client
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks import profiles, results, samples, spawning
from emulators import oidc, running

SETTINGS = "benchmarks.site.settings"
SERVICE_ACCOUNT = "bench-tasks@bench-project.iam.gserviceaccount.com"
TASK_PATH = "/gcp/tasks/BenchPlain"
BARE_PATH = "/bench/bare"
BODY = json.dumps({"order_id": 42, "email": "customer@example.com"}).encode()
WARMUP_REQUESTS = 50
TARGET = 1.3
VARIANTS = ("bare", "endpoint", "endpoint-recorded", "endpoint-no-auth", "django-gcp")
# Recording an execution (SQLite, GCP_TASKS_RECORD_EXECUTIONS) may add this much server CPU.
RECORDING_TARGET_MS = 1.0
# What Cloud Tasks sends with every push besides the token: every variant gets the same.
CLOUD_TASKS_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "Google-Cloud-Tasks",
    "X-CloudTasks-QueueName": "bench",
    "X-CloudTasks-TaskName": "01234567890123456789",  # replaced by a new name for each push
    "X-CloudTasks-TaskRetryCount": "0",
    "X-CloudTasks-TaskExecutionCount": "0",
    "X-CloudTasks-TaskETA": "1767225600.0",
}
TASK_NAME = "X-CloudTasks-TaskName"
SERVERS = {
    "threaded": "threaded stdlib WSGI server",
    "serial": "single-threaded stdlib WSGI server",
}
LABELS = {
    "bare": "bare Django view (parses JSON)",
    "endpoint": "task endpoint, OIDC verified",
    "endpoint-recorded": "task endpoint, OIDC verified, execution recorded (SQLite)",
    "endpoint-no-auth": "task endpoint, OIDC off",
    "django-gcp": "django-gcp task endpoint (no OIDC)",
}


def run(
    profile: profiles.Profile, *, django_gcp_python: Path, server: str = "threaded"
) -> results.Outcome:
    """`server`: "threaded" (a thread per connection) or "serial" (one request at a time, like a
    single-threaded sync worker): both are the stdlib's WSGI server."""
    with oidc.Issuer() as issuer:
        env = {
            running.CERTS_ENV: issuer.certs_url,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "BENCH_SERVER": server,
        }
        argv = [sys.executable, "-m", "benchmarks.endpoint_server"]
        theirs = [str(django_gcp_python), "-m", "benchmarks.django_gcp_endpoint_server"]
        database = tempfile.TemporaryDirectory(prefix="bench-recorded-")
        recording_env = {
            **env,
            "BENCH_RECORD": "1",
            "BENCH_DATABASE": str(Path(database.name) / "bench.sqlite3"),
        }
        with (
            database,
            spawning.Server(argv, name="endpoint-server", env=env) as verified,
            spawning.Server(argv, name="endpoint-server-recorded", env=recording_env) as recorded,
            spawning.Server(
                argv, name="endpoint-server-no-auth", env={**env, "BENCH_DISABLE_AUTH": "1"}
            ) as unverified,
            spawning.Server(
                theirs, name="endpoint-server-django-gcp", env={"BENCH_SERVER": server}
            ) as django_gcp,
        ):
            port, open_port = int(verified.ready_line), int(unverified.ready_line)
            token = issuer.token(f"http://127.0.0.1:{port}{TASK_PATH}", SERVICE_ACCOUNT)
            recorded_port = int(recorded.ready_line)
            recorded_token = issuer.token(
                f"http://127.0.0.1:{recorded_port}{TASK_PATH}", SERVICE_ACCOUNT
            )
            headers = CLOUD_TASKS_HEADERS
            targets = {
                "bare": (port, BARE_PATH, headers),
                "endpoint": (port, TASK_PATH, {**headers, "Authorization": f"Bearer {token}"}),
                "endpoint-recorded": (
                    recorded_port,
                    TASK_PATH,
                    {**headers, "Authorization": f"Bearer {recorded_token}"},
                ),
                "endpoint-no-auth": (open_port, TASK_PATH, headers),
                "django-gcp": (int(django_gcp.ready_line), TASK_PATH, headers),
            }
            servers = {
                "bare": verified,
                "endpoint": verified,
                "endpoint-recorded": recorded,
                "endpoint-no-auth": unverified,
                "django-gcp": django_gcp,
            }
            for target in targets.values():
                _load(*target, seconds=None, clients=1, requests=WARMUP_REQUESTS)
            rounds: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
            for index in range(profile.endpoint_rounds):
                shift = index % len(VARIANTS)
                for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                    pid = servers[variant].pid
                    cpu = spawning.cpu_seconds(pid)
                    reply = _load(
                        *targets[variant],
                        seconds=profile.endpoint_seconds,
                        clients=profile.endpoint_clients,
                    )
                    # The server's own CPU per request: its cost, whatever else the machine runs.
                    reply["server_cpu"] = (spawning.cpu_seconds(pid) - cpu) / reply["requests"]
                    rounds[variant].append(reply)
            fetches = _get_json(port, "/bench/stats")["certificate_fetches"]
            recorded_executions = _get_json(recorded_port, "/bench/stats")["recorded"]
    data = _summarize(rounds, fetches, profile, server)
    data["recorded_executions"] = recorded_executions
    return _outcome(data)


def _load(
    port: int,
    path: str,
    headers: Mapping[str, str],
    *,
    seconds: float | None,
    clients: int,
    requests: int = 0,
) -> dict[str, Any]:
    """`clients` threads posting for `seconds` (or `requests` in all); every answer must be 200."""
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds if seconds is not None else float("inf")
    budget = [requests]
    numbers = itertools.count()

    def client() -> None:
        mine: list[float] = []
        seen: collections.Counter[int] = collections.Counter()
        while time.perf_counter() < deadline:
            if seconds is None:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
            sent = dict(headers)
            if TASK_NAME in sent:
                # Each push is its own Cloud Tasks task, as in production (and so its own run).
                sent[TASK_NAME] = f"{next(numbers):020d}"
            before = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("POST", path, BODY, sent)
                response = connection.getresponse()
                response.read()
            finally:
                connection.close()
            mine.append(time.perf_counter() - before)
            seen[response.status] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if not latencies:
        raise RuntimeError(f"POST {path}: no request completed in {elapsed:.2f} s")
    if set(statuses) != {200}:
        raise RuntimeError(f"POST {path}: answers other than 200: {dict(statuses)}")
    return {"requests": len(latencies), "elapsed": elapsed, "latencies": latencies}


def _get_json(port: int, path: str) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        document: dict[str, Any] = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return document


def _summarize(
    rounds: dict[str, list[dict[str, Any]]],
    fetches: int,
    profile: profiles.Profile,
    server: str,
) -> dict[str, Any]:
    variants = {}
    for variant, replies in rounds.items():
        rates = [reply["requests"] / reply["elapsed"] for reply in replies]
        latencies = [value for reply in replies for value in reply["latencies"]]
        variants[variant] = {
            "requests_per_second": statistics.median(rates),
            "round_rates": rates,
            "server_cpu_ms_per_request": statistics.median(r["server_cpu"] for r in replies) * 1000,
            "requests": sum(reply["requests"] for reply in replies),
            "latency_ms": samples.summarize(latencies).as_dict(scale=1000),
        }
    bare_rates = variants["bare"]["round_rates"]
    bare_cpu = variants["bare"]["server_cpu_ms_per_request"]
    for entry in variants.values():
        # How many times slower than the bare view: bare rate / this rate, round by round.
        entry["slowdown_vs_bare"] = samples.median_ratio(bare_rates, entry["round_rates"])
        entry["server_cpu_vs_bare"] = entry["server_cpu_ms_per_request"] / bare_cpu
    return {
        "clients": profile.endpoint_clients,
        "seconds_per_round": profile.endpoint_seconds,
        "rounds": profile.endpoint_rounds,
        "server": SERVERS[server],
        "variants": variants,
        "certificate_fetches": fetches,
        "verified_requests": variants["endpoint"]["requests"] + WARMUP_REQUESTS,
        # CPU time, not wall time: on a shared machine it does not depend on the neighbours.
        "recording_cpu_ms_per_request": variants["endpoint-recorded"]["server_cpu_ms_per_request"]
        - variants["endpoint"]["server_cpu_ms_per_request"],
    }


def _outcome(data: dict[str, Any]) -> results.Outcome:
    variants = data["variants"]
    rows = tuple(
        (
            LABELS[variant],
            results.rate(variants[variant]["requests_per_second"]),
            f"{variants[variant]['latency_ms']['median']:.2f}",
            f"{variants[variant]['latency_ms']['p95']:.2f}",
            results.ratio(variants[variant]["slowdown_vs_bare"]),
            f"{variants[variant]['server_cpu_ms_per_request']:.2f}",
            results.ratio(variants[variant]["server_cpu_vs_bare"]),
        )
        for variant in VARIANTS
    )
    table = results.Table(
        title=f"Task endpoint over HTTP ({data['clients']} concurrent clients, {data['rounds']} "
        f"rounds x {data['seconds_per_round']:g} s per variant, {data['server']}, HTTP/1.0)",
        columns=(
            "variant",
            "requests/s",
            "median ms",
            "p95 ms",
            "slower than bare",
            "server CPU ms/req",
            "CPU vs bare",
        ),
        rows=rows,
        notes=(
            "slower than bare: median over rounds of (bare requests/s / this requests/s); "
            "server CPU: the server process's CPU time per request (median over rounds)",
            f"certificate fetches: {data['certificate_fetches']} for "
            f"{data['verified_requests']:,} verified requests (cache lifetime: the issuer's "
            "Cache-Control max-age, 3600 s)",
        ),
    )
    cpu = variants["endpoint"]["server_cpu_vs_bare"]
    recording = data["recording_cpu_ms_per_request"]
    with_recording = variants["endpoint-recorded"]["server_cpu_ms_per_request"]
    without = variants["endpoint"]["server_cpu_ms_per_request"]
    slowdown = variants["endpoint"]["slowdown_vs_bare"]
    targets = (
        results.Target(
            benchmark="endpoint",
            goal=f"task endpoint with OIDC: server CPU per request within {TARGET}x of the bare "
            "view",
            measured=f"{results.ratio(cpu)} ({results.ratio(slowdown)} in requests/s)",
            met=cpu <= TARGET,
        ),
        results.Target(
            benchmark="endpoint",
            goal="certificates fetched once per cache lifetime, not per request",
            measured=f"{data['certificate_fetches']} fetch(es) / {data['verified_requests']:,} "
            "requests",
            met=data["certificate_fetches"] == 1,
        ),
        results.Target(
            benchmark="endpoint",
            goal=f"recording an execution (SQLite) adds at most {RECORDING_TARGET_MS:g} ms of "
            "server CPU per request",
            measured=f"{recording:.2f} ms ({with_recording:.2f} vs {without:.2f} ms of CPU)",
            met=recording <= RECORDING_TARGET_MS,
        ),
    )
    return results.Outcome("endpoint", (table,), targets, data)
