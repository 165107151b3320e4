"""`make bench`: the site under load on a production-like stack, as ratios to a bare view.

    .venv/bin/python benchmarks/bench.py            # about 15 minutes
    .venv/bin/python benchmarks/bench.py --quick    # or BENCH_QUICK=1: a 2–3 minute smoke run

Starts gunicorn (DEBUG=0), a Celery worker and beat, and an SMTP sink on
loopback, on a scratch PostgreSQL database and Redis database 9 (both emptied
first and dropped at the end); serves a bare Django view the same way; seeds 0,
then 1,000, then 35,000 published signatures on real territories; measures each
path at 1, 8 and 32 clients; prints the tables and writes them to
var/bench/results-<date>.md (and .json). See docs/performance.md.
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.stack import BenchStack

# The servers' settings are this process's too: queries are counted in-process.
STACK = BenchStack(workers=3, database="alliance_bench", redis_db=9, logs=ROOT / "var/bench/logs")
os.environ.update(STACK.env)
os.environ["DJANGO_SETTINGS_MODULE"] = "alliance.settings"

import django

django.setup()

from django.db import connection
from harness import data, load, procs, report
from harness.signers import Signers


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    clients: tuple[int, ...]
    seconds: int  # each wrk run
    load_seconds: float  # the form-loading phase of each signing run
    emails: int  # signatures whose confirmation emails the email run times
    autocomplete: tuple[str, ...]  # territory searches, measured at the first size only


FULL = Plan(
    sizes=(0, 1000, 35000),
    clients=(1, 8, 32),
    seconds=6,
    load_seconds=4,
    emails=200,
    autocomplete=("toul", "saint e", "42000"),
)
QUICK = Plan(
    sizes=(0, 1000),
    clients=(1, 8),
    seconds=2,
    load_seconds=1,
    emails=200,
    autocomplete=("toul",),
)
REGION = "76"  # Occitanie: many communes


class Bench:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.results: list[load.Result] = []
        self.bare: dict[str, dict[int, list[load.Result]]] = {"none": {}, "default": {}}
        self.ceiling: list[load.Result] = []
        self.csv: list[list] = []
        self.memory: list[list] = []
        self.signature_cpu: list[list] = []
        self.facts: dict = {"setup_seconds": {}}

    def wrk(self, label, path, clients, size, headers=None, seconds=None) -> load.Result:
        result = load.wrk(
            STACK.base_url + path,
            clients=clients,
            seconds=seconds or self.plan.seconds,
            headers=headers,
            pids=self.pids(),
            label=label,
            size=size,
        )
        result.extra["loadavg"] = os.getloadavg()[0]
        return result

    def pids(self, bare: bool = False) -> tuple[list[int], list[int]]:
        """(the server's workers, the rest of our stack), for the CPU meters."""
        server = STACK.bare_workers() if bare else STACK.web_workers()
        return server, STACK.helper_pids() + data.backend_pids()

    def run(self) -> None:
        setup = self.facts["setup_seconds"]
        STACK.create_database()
        self.facts["machine"] = _machine()
        setup["migrate"] = STACK.manage("migrate", "--no-input")
        setup["collectstatic"] = STACK.manage("collectstatic", "--no-input")
        setup["import_territories"] = STACK.manage("import_territories")
        setup["vacuum analyze"] = STACK.analyze()
        STACK.start()
        time.sleep(5)  # beat's first round of periodic tasks
        self.measure_bare(first=True)
        seeded = 0
        for size in self.plan.sizes:
            if size > seeded:
                setup[f"seed_demo to {size}"] = STACK.manage(
                    "seed_demo", "--signatures", str(size - seeded)
                )
                setup[f"vacuum analyze at {size}"] = STACK.analyze()
                seeded = size
            self.measure_size(size)
        self.measure_csv_stall(self.plan.sizes[-1])
        self.measure_emails()
        self.measure_bare(first=False)  # again: the machine's other load may have changed

    def measure_bare(self, *, first: bool) -> None:
        """The floor, with and without Django's default middleware, at the start and the end."""
        for middleware in ("none", "default"):
            STACK.serve_bare(middleware)
            label = "bare view" + (", default middleware" if middleware == "default" else "")
            label += " (start)" if first else " (end)"
            _warm(STACK.bare_url)
            if load.request(STACK.bare_url)[2] != b"Bonjour.\n":
                raise SystemExit(f"{STACK.bare_url} is not the bare view: see {STACK.logs}")
            for clients in self.plan.clients:
                result = load.wrk(
                    STACK.bare_url,
                    clients=clients,
                    seconds=self.plan.seconds,
                    pids=self.pids(bare=True),
                    label=label,
                )
                self.bare[middleware].setdefault(clients, []).append(result)
                self.results.append(result)
                _print(result)
            if middleware == "none" and first:
                self.ceiling.append(_renamed(result, "wrk → bare view"))
                python = load.python_get(
                    STACK.bare_url,
                    clients=8,
                    seconds=self.plan.seconds,
                    pids=self.pids(bare=True),
                    label="Python threads → bare view",
                )
                self.ceiling.append(python)
                _print(python)
        STACK.bare.stop()
        STACK.bare = None

    def bare_rps(self, middleware: str) -> dict[int, float]:
        """The floor at each number of clients: the mean of the start and end runs."""
        return {
            clients: sum(r.rps for r in runs) / len(runs)
            for clients, runs in self.bare[middleware].items()
        }

    def measure_size(self, size: int) -> None:
        declaration = data.current_declaration()
        slug = declaration.slug
        published = data.published_count(declaration)
        print(f"\n== {published:,} published signatures ==", flush=True)
        paths = _get_paths(slug)
        if size == self.plan.sizes[0]:
            paths += [
                (f'autocomplete "{q}"', f"/territoires/recherche/?q={quote(q)}", _HTMX)
                for q in self.plan.autocomplete
            ]
        free = data.free_territories(declaration, seed=size)
        # The whole-list CSV is kept per counts version: the first download makes it.
        csv_url = STACK.base_url + f"/declarations/{slug}/signataires.csv"
        seconds, megabytes = _download(csv_url)
        self.csv.append([f"{size:,}", "1, first", f"{seconds:.2f}", f"{megabytes:.1f}", "—", "—"])
        queries = data.count_queries(declaration, paths, free)
        for label, path, headers in paths:
            _warm(STACK.base_url + path, headers)
            for clients in self.plan.clients:
                result = self.wrk(label, path, clients, size, headers)
                result.queries = queries.get(label)
                self.results.append(result)
                _print(result)
        self.measure_signing(declaration, size, queries.get("sign POST"))
        seconds, megabytes = _download(csv_url)
        self.facts.setdefault("csv_seconds", {})[size] = seconds
        self.csv.append([f"{size:,}", "1, again", f"{seconds:.2f}", f"{megabytes:.1f}", "—", "—"])
        self.facts.setdefault("csv_queries", {})[size] = queries.get("CSV full")
        self.record_memory(f"{size:,}")

    def record_memory(self, moment: str) -> None:
        workers = [procs.memory_mib(pid) for pid in STACK.web_workers()]
        self.memory.append(
            [moment]
            + [", ".join(f"{w[kind]:.0f}" for w in workers) for kind in ("rss", "pss", "uss")]
            + [f"{procs.memory_mib(STACK.web.process.pid)['rss']:.0f}"]
        )

    def measure_signing(self, declaration, size: int, queries: int | None) -> None:
        free = data.free_territories(declaration, seed=size + 1)
        signers = Signers(STACK.base_url, declaration.slug, free)
        for clients in self.plan.clients:
            before: dict = {}
            accepted_before = len(signers.accepted)
            result = signers.run(
                clients=clients,
                load_seconds=self.plan.load_seconds,
                pids=self.pids(),
                size=size,
                limit=len(free) // len(self.plan.clients),
                on_posting=lambda before=before: before.update(_cpu_snapshot()),
            )
            result.queries = queries
            # What each signature costs all of the stack, its email and tasks included.
            _wait_for_emails(set(signers.accepted[accepted_before:]), timeout=180)
            _wait_for_tasks()  # the flags, in the "deferred" queue behind the emails
            if result.requests:
                self.signature_cpu.append(_signature_cpu_row(before, result))
            self.results.append(result)
            _print(result)
        accepted = set(signers.accepted)
        arrivals = _wait_for_emails(accepted, timeout=180)
        rows = data.bench_signatures(declaration).filter(email__in=accepted)
        pending = rows.filter(status="pending").count()
        check = f"{rows.count()}/{len(accepted)} rows ({pending} pending), {len(arrivals)} emails"
        print(f"   signing check: {check}")
        for result in self.results[-len(self.plan.clients) :]:
            result.note = "; ".join(part for part in (check, result.note) if part)
        data.clear_bench_signatures(declaration)

    def measure_csv_stall(self, size: int) -> None:
        """The full CSV while the declaration page is under load: does it stall?"""
        slug = data.current_declaration().slug
        connection.close()
        url = STACK.base_url + f"/declarations/{slug}/signataires.csv"
        for downloads in (1, STACK.workers):
            timings: list[tuple[float, float]] = []
            threads = [
                threading.Thread(target=_download_into, args=(url, timings))
                for _ in range(downloads)
            ]
            for thread in threads:
                thread.start()
            # Long enough to cover the downloads: the page's max latency shows any stall.
            seconds = max(self.plan.seconds, round(2 * self.facts["csv_seconds"][size]) + 1)
            result = self.wrk(f"/ during {downloads} CSV downloads", "/", 8, size, None, seconds)
            for thread in threads:
                thread.join()
            self.results.append(result)
            _print(result)
            slowest = max(seconds for seconds, _mb in timings)
            megabytes = f"{timings[0][1]:.1f}"
            during = (
                (f"{result.p95_ms:,.0f}", f"{result.max_ms:,.0f}")
                if result.requests
                else (f"none answered in {result.seconds:.0f} s", "—")
            )
            self.csv.append([f"{size:,}", downloads, f"{slowest:.2f}", megabytes, *during])
        self.record_memory(f"{size:,}, after the CSV downloads")

    def measure_emails(self) -> None:
        """One worker sending a backlog of confirmation emails (queued while it was down)."""
        declaration = data.current_declaration()
        free = data.free_territories(declaration, seed=7)
        STACK.worker.stop()
        signers = Signers(STACK.base_url, declaration.slug, free)
        # One signer: also the sign POST's latency with no worker competing for the cores.
        result = signers.run(
            clients=1,
            load_seconds=120,
            pids=self.pids(),
            size=self.plan.sizes[-1],
            limit=self.plan.emails,
        )
        self.results.append(_renamed(result, "sign POST, worker stopped"))
        _print(result)
        accepted = set(signers.accepted)
        started = time.time()
        STACK.start_worker()
        # The CPU of the stack between the first email and the last (not the worker's start).
        while not any(to in accepted for _at, to in STACK.emails_received()):
            time.sleep(0.05)
        before = _cpu_snapshot()
        arrivals = _wait_for_emails(accepted, timeout=300)
        first, last = arrivals[0], arrivals[-1]
        cpu = _cpu_ms_each(before, max(1, len(arrivals) - 1))
        # The signatures' flags wait in the "deferred" queue behind the emails.
        _wait_for_tasks()
        drained = time.time()
        cpu_all = _cpu_ms_each(before, max(1, len(arrivals) - 1))
        self.facts["emails"] = {
            "sent": len(arrivals),
            "asked": len(accepted),
            "worker_start_to_first_s": round(first - started, 2),
            "per_second": round((len(arrivals) - 1) / (last - first), 1) if last > first else 0,
            "cpu_ms_per_email": {name: round(ms, 1) for name, ms in cpu.items()},
            "first_email_to_backlog_done_s": round(drained - first, 2),
            "cpu_ms_per_signature_until_done": {
                name: round(ms, 1) for name, ms in cpu_all.items()
            },
        }
        print(f"   emails: {self.facts['emails']}")
        data.clear_bench_signatures(declaration)


_HTMX = {"HX-Request": "true"}


CPU_GROUPS = ("web", "PostgreSQL", "Celery worker", "beat", "SMTP sink")


def _cpu_snapshot() -> dict[str, dict[int, float]]:
    """CPU seconds so far of every process of the stack, by group."""

    def tree(service) -> list[int]:
        if not (service and service.running):
            return []
        return [service.process.pid, *procs.children(service.process.pid)]

    pids = {
        "web": STACK.web_workers(),
        "PostgreSQL": data.backend_pids(),
        "Celery worker": tree(STACK.worker),
        "beat": tree(STACK.beat),
        "SMTP sink": tree(STACK.sink),
    }
    return {group: procs.cpu_by_pid(members) for group, members in pids.items()}


def _cpu_ms_each(before: dict, count: int, client_cpu: float = 0.0) -> dict[str, float]:
    """CPU ms per item (a signature, an email) since `before`, by group, with the total and
    what the machine's cores could do at that cost. A process that started meanwhile (a new
    PostgreSQL backend) counts from zero."""
    after = _cpu_snapshot()
    each = {
        group: 1000
        * sum(seconds - before[group].get(pid, 0.0) for pid, seconds in after[group].items())
        / count
        for group in CPU_GROUPS
    }
    each["load generator"] = 1000 * client_cpu / count
    each["total"] = sum(each.values())
    each["ceiling /s"] = 1000 * (os.cpu_count() or 1) / each["total"]
    return each


def _signature_cpu_row(before: dict, result: load.Result) -> list:
    """A row of the "CPU per signature" table: from the first POST to the last email."""
    each = _cpu_ms_each(before, result.requests, result.client_cpu)
    return [
        f"{result.size:,}",
        result.clients,
        result.requests,
        *(f"{each[group]:.1f}" for group in (*CPU_GROUPS, "load generator", "total")),
        f"{each['ceiling /s']:,.0f}",
        f"{result.rps:,.1f}",
    ]


def _get_paths(slug: str) -> list[tuple[str, str, dict]]:
    base = f"/declarations/{slug}/"
    poll = _poll_url(slug)
    status, headers, _body = load.request(STACK.base_url + poll, headers=_HTMX)
    etag = headers["ETag"]
    status, _headers, _body = load.request(
        STACK.base_url + poll, headers={**_HTMX, "If-None-Match": etag}
    )
    if status != 304:
        raise SystemExit(f"The poll answered {status} to its own ETag, not 304.")
    return [
        ("sign form GET", f"{base}signer/", {}),
        ("declaration page /", "/", {}),
        ("list, first page", f"{base}signataires/", {}),
        (f"list, région {REGION}", f"{base}signataires/?region={REGION}", {}),
        ("list poll, 304", poll, {**_HTMX, "If-None-Match": etag}),
        ("widget", f"{base}widget/", {}),
        ("API declaration (counts)", f"/api/declarations/{slug}", {}),
    ]


def _poll_url(slug: str) -> str:
    """The list's poll address, as its first page embeds it."""
    _status, _headers, body = load.request(STACK.base_url + f"/declarations/{slug}/signataires/")
    return data.poll_url_in(body.decode())


def _warm(url: str, headers: dict | None = None) -> None:
    """Each gunicorn worker loads its templates and connections before the clock starts."""
    for _ in range(2 * STACK.workers):
        status, _headers, _body = load.request(url, headers=headers)
        if status >= 400:
            raise SystemExit(f"{url} answered {status}: see {STACK.logs}/web.log")


def _download(url: str) -> tuple[float, float]:
    """Seconds to the last byte and megabytes of one GET."""
    started = time.perf_counter()
    _status, _headers, body = load.request(url)
    return time.perf_counter() - started, len(body) / 1e6


def _download_into(url: str, timings: list) -> None:
    timings.append(_download(url))


def _wait_for_emails(addresses: set[str], timeout: float) -> list[float]:
    """Arrival times of the first email to each address, once all came or at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        arrived = {}
        for at, to in STACK.emails_received():
            if to in addresses:
                arrived.setdefault(to, at)
        if len(arrived) == len(addresses) or time.monotonic() > deadline:
            return sorted(arrived.values())
        time.sleep(0.5)


def _wait_for_tasks(timeout: float = 300) -> None:
    """Until both queues are empty and nothing is left unacknowledged: before counting a
    run's CPU, and before deleting its signatures under a task still flagging them."""
    deadline = time.monotonic() + timeout
    while STACK.tasks_waiting() and time.monotonic() < deadline:
        time.sleep(0.05)


def _renamed(result: load.Result, label: str) -> load.Result:
    return load.Result(**{**result.__dict__, "path": label})


def _print(result: load.Result) -> None:
    size = "" if result.size is None else f" @ {result.size:,}"
    print(
        f"{result.path}{size}, {result.clients} clients: {result.rps:,.1f}/s, "
        f"p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms"
        + (f", {result.errors} errors ({result.note})" if result.errors else ""),
        flush=True,
    )


def _machine() -> dict:
    def run(*command):
        return subprocess.run(  # noqa: S603 - fixed commands
            command, capture_output=True, text=True, check=False
        ).stdout

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in run("lscpu").splitlines()
            if "Model name" in line
        ),
        "?",
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version(),
        "postgresql": postgres,
        "commit": run("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD").strip()
        or os.environ.get("BENCH_COMMIT", "unknown (not a git work tree)"),
        "work_tree_changed": bool(run("git", "-C", str(ROOT), "status", "--porcelain").strip()),
        "loadavg_start": os.getloadavg(),
    }


def _extra_gunicorn_args() -> str:
    extra = os.environ.get("BENCH_GUNICORN_ARGS")
    return f", then `{extra}`" if extra else ""


def _markdown(bench: Bench, command: str, date: str) -> list[str]:
    facts, machine = bench.facts, bench.facts["machine"]
    lines = [
        f"# Benchmark {date}",
        "",
        f"Command: `{command}`. Machine: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory_gib']} GiB, Python {machine['python']}, PostgreSQL "
        f"{machine['postgresql']}; commit {machine['commit']}"
        + (" with uncommitted changes" if machine["work_tree_changed"] else "")
        + f". Load average before/after: {machine['loadavg_start'][0]:.1f} / "
        f"{machine['loadavg_end'][0]:.1f}. gunicorn: {STACK.workers} workers "
        f"as gunicorn.conf.py says{_extra_gunicorn_args()}.",
        "",
        "Setup: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in facts["setup_seconds"].items())
        + ".",
        "",
        "## Requests",
        "",
        "vs bare: share of the bare view's requests/s at the same number of clients (mean of",
        "its start and end runs); + mw: with Django's default middleware. Rest of stack: cores",
        "used meanwhile by our worker, beat, sink and PostgreSQL; elsewhere: by other work on",
        "the machine (the noise).",
        "",
        *report.main_table(bench.results, bench.bare_rps("none"), bench.bare_rps("default")),
        "",
        "## Full CSV: time to last byte, and the declaration page (8 clients) meanwhile",
        "",
        *report.simple_table(
            ["size", "downloads at once", "last byte s", "MB", "/ p95 ms", "/ max ms"],
            bench.csv,
        ),
        "",
        f"CSV queries: {facts.get('csv_queries')}.",
        "",
        "## Confirmation emails: one worker (prefork, concurrency "
        f"{os.environ.get('BENCH_WORKER_CONCURRENCY', '2')}) draining a backlog",
        "",
        f"{facts['emails']}",
        "",
        "## Memory per gunicorn worker (MiB), after each size",
        "",
        "RSS counts shared pages in each process; PSS shares them out; USS is a worker's",
        "own pages, what one more worker costs.",
        "",
        *report.simple_table(
            ["after", "RSS per worker", "PSS", "USS", "master RSS"], bench.memory
        ),
        "",
        "## CPU per signature (ms), from the first POST to the last email",
        "",
        "Every process of the stack, the signature's email and tasks included; beat's",
        "periodic tasks run in the worker meanwhile. Ceiling: what the machine's cores could",
        "sign per second if they did nothing else.",
        "",
        *report.simple_table(
            [
                "size",
                "clients",
                "signatures",
                *CPU_GROUPS,
                "load generator",
                "total",
                "ceiling /s",
                "measured /s",
            ],
            bench.signature_cpu,
        ),
        "",
        "## Load generators' own cost",
        "",
        *report.ceiling_table(bench.ceiling),
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1"
    )
    parser.add_argument("--keep-database", action="store_true", help="for profiling afterwards")
    args = parser.parse_args()
    bench = Bench(QUICK if args.quick else FULL)
    started = time.monotonic()
    date = datetime.datetime.now().astimezone()
    try:
        bench.run()
    finally:
        connection.close()
        STACK.stop()
        if not args.keep_database:
            STACK.drop_database()
    bench.facts["machine"]["loadavg_end"] = os.getloadavg()
    bench.facts["minutes"] = round((time.monotonic() - started) / 60, 1)
    command = "make bench" + (" BENCH_QUICK=1" if args.quick else "")
    markdown = _markdown(bench, command, date.strftime("%Y-%m-%d %H:%M %Z"))
    print("\n" + "\n".join(markdown))
    path = report.write(
        ROOT / "var/bench",
        date.strftime("%Y-%m-%d-%H%M"),
        markdown,
        {
            "facts": bench.facts,
            "results": [r.as_dict() for r in bench.results],
            "ceiling": [r.as_dict() for r in bench.ceiling],
            "csv": bench.csv,
            "memory": bench.memory,
            "signature_cpu": bench.signature_cpu,
        },
    )
    print(f"\nWritten to {path} and {path.with_suffix('.json')} in {bench.facts['minutes']} min.")


if __name__ == "__main__":
    main()
