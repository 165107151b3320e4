"""The load generators: wrk for plain GETs, a threaded Python client for the signing flow.

wrk (C, one event loop per thread) costs far less CPU per request than any
Python client, which matters on a machine whose two cores also run the server.
The signing flow needs a cookie, two tokens read from the form and a
different territory per POST: Python threads do it (see signers.py).
Every request carries the headers the TLS proxy in front would add.
"""

import http.client
import json
import resource
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import procs

LUA = Path(__file__).with_name("wrk_report.lua")
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.0.1"}


@dataclass
class Result:
    """One measurement: a path at one size and one number of clients."""

    path: str
    size: int | None
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    max_ms: float = 0.0
    errors: int = 0  # transport errors and unexpected statuses
    client_cpu: float = 0.0  # CPU seconds used by the load generator
    server_cpu: float = 0.0  # CPU seconds used by the gunicorn workers
    # CPU seconds of the rest of our stack (worker, beat, sink, PostgreSQL backends)
    stack_cpu: float = 0.0
    elsewhere_cpu: float = 0.0  # CPU seconds the machine spent on others' work meanwhile
    queries: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "rps": round(self.rps, 1)}


def wrk(
    url: str,
    *,
    clients: int,
    seconds: float,
    headers: dict | None = None,
    pids: tuple[list[int], list[int]] = ([], []),
    label: str = "",
    size: int | None = None,
) -> Result:
    """Run wrk for `seconds` with `clients` connections.

    `pids`: the server's processes, and the rest of our stack's (database
    backends, worker), whose CPU is told apart from the machine's other work.
    """
    command = [
        shutil.which("wrk") or "wrk",
        f"-t{min(clients, 2)}",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",  # wrk takes whole seconds
        "--timeout",
        "30s",
        "-s",
        str(LUA),
    ]
    for name, value in {**PROXY_HEADERS, **(headers or {})}.items():
        command += ["-H", f"{name}: {value}"]
    meter = procs.CpuMeter(*pids)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(  # noqa: S603 - wrk on a loopback URL we built
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    client_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    server_cpu, stack_cpu, elsewhere_cpu = meter.stop(client_cpu)
    return Result(
        path=label or urlsplit(url).path,
        size=size,
        clients=clients,
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p95_ms=report["p95_us"] / 1000,
        max_ms=report["max_us"] / 1000,
        errors=report["socket_errors"] + report["bad_status"] + report["timeouts"],
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        stack_cpu=stack_cpu,
        elsewhere_cpu=elsewhere_cpu,
    )


def request(
    url: str, *, method: str = "GET", body: bytes | None = None, headers: dict | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request over a fresh connection (gunicorn's sync workers close each one)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers={**PROXY_HEADERS, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def percentile(samples: list[float], share: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_threads(clients: int, job, until: float) -> list[float]:
    """Call job() from `clients` threads until the monotonic clock reaches `until`.

    job returns False to stop its thread (that call is not counted); the latencies of
    the other calls, in ms, are returned.
    """
    latencies: list[float] = []
    lock = threading.Lock()

    def loop():
        while time.monotonic() < until:
            started = time.perf_counter()
            if job() is False:
                return
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def python_get(
    url: str, *, clients: int, seconds: float, pids: tuple[list[int], list[int]], label: str
) -> Result:
    """The Python client's own ceiling: plain GETs, as many as it can send."""
    errors = []

    def job():
        status, _headers, _body = request(url)
        if status != 200:
            errors.append(status)

    cpu_before, meter = time.process_time(), procs.CpuMeter(*pids)
    started = time.monotonic()
    latencies = run_threads(clients, job, started + seconds)
    elapsed = time.monotonic() - started
    client_cpu = time.process_time() - cpu_before
    server_cpu, stack_cpu, elsewhere_cpu = meter.stop(client_cpu)
    return Result(
        path=label,
        size=None,
        clients=clients,
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(latencies),
        p95_ms=percentile(latencies, 0.95),
        max_ms=max(latencies),
        errors=len(errors),
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        stack_cpu=stack_cpu,
        elsewhere_cpu=elsewhere_cpu,
    )
