"""Two quick probes on the production-like stack of `make bench`, one question each.

    .venv/bin/python benchmarks/probe_stack.py sign [--no-worker] [--spy worker|web]
    .venv/bin/python benchmarks/probe_stack.py csv-memory

`sign`: one client signing back to back at 1,000 published signatures, as the
bench's "sign POST, 1 client" row but for longer (forms loaded for 5 s, then all
posted): p50, p95 and the CPU of each part of the stack. `--no-worker` stops the
Celery worker first; `--spy worker` (or `web`) records the Celery worker's (or
gunicorn's) processes with py-spy (`pip install py-spy`) into
var/bench/spy-<pid>.txt while the POSTs run.

`csv-memory`: at 35,000, each gunicorn worker's RSS and USS after warming up, after
three rounds of six simultaneous whole-list CSV downloads, and after filtered ones.

Same stack, database and Redis database as `make bench` uses for itself
(alliance_probe, Redis 10): run one at a time, with the machine otherwise quiet.
"""

import argparse
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import procs
from harness.load import request
from harness.stack import BenchStack

STACK = BenchStack(
    workers=3, database="alliance_probe", redis_db=10, logs=ROOT / "var/bench/probe-logs"
)
STACK.use_in_this_process()

from django.db import connection
from harness import data
from harness.signers import Signers


def probe_sign(*, worker: bool, spy: str | None) -> None:
    if not worker:
        STACK.worker.stop()
    declaration = data.current_declaration()
    signers = Signers(STACK.base_url, declaration.slug, data.free_territories(declaration, seed=5))
    signers.run(clients=1, load_seconds=3, pids=([], []), size=1000)  # warm-up
    # Read after the warm-up: the Celery worker forks its pool once it has started.
    pids = (STACK.web_workers(), STACK.helper_pids())
    spies = []

    def start_spies():
        if spy == "worker":
            spied = [STACK.worker.process.pid, *procs.children(STACK.worker.process.pid)]
        else:
            spied = STACK.web_workers() if spy == "web" else []
        for pid in spied:
            out = ROOT / f"var/bench/spy-{pid}.txt"
            command = [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "-p",
                str(pid),
                "-o",
                str(out),
                "-f",
                "raw",
                "-d",
                "20",
            ]
            spies.append(subprocess.Popen(command, stderr=subprocess.DEVNULL))  # noqa: S603

    result = signers.run(clients=1, load_seconds=5, pids=pids, size=1000, on_posting=start_spies)
    for process in spies:
        process.wait()
    each = {
        "web": result.server_cpu,
        "worker, beat and sink": result.stack_cpu,
        "PostgreSQL and the rest": result.elsewhere_cpu,
    }
    print(
        f"{result.requests} POSTs in {result.seconds:.1f} s: p50 {result.p50_ms:.1f} ms, "
        f"p95 {result.p95_ms:.1f} ms; CPU per POST: "
        + ", ".join(f"{k} {1000 * v / result.requests:.1f} ms" for k, v in each.items())
    )


def probe_csv_memory() -> None:
    declaration = data.current_declaration()
    base = f"{STACK.base_url}/declarations/{declaration.slug}/"

    def show(label: str) -> None:
        sizes = [procs.memory_mib(pid) for pid in STACK.web_workers()]
        print(label, ", ".join(f"RSS {m['rss']:.0f} / USS {m['uss']:.0f}" for m in sizes))

    for path in ("", "signataires/", "signer/"):
        for _ in range(30):
            request(base + path)
    show("warm:")
    for round_number in range(1, 4):
        downloads = [
            threading.Thread(target=request, args=(base + "signataires.csv",)) for _ in range(6)
        ]
        for thread in downloads:
            thread.start()
        for thread in downloads:
            thread.join()
        show(f"after six downloads at once, round {round_number}:")
    for _ in range(3):
        request(base + "signataires.csv?region=76")
    show("after three filtered downloads:")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=["sign", "csv-memory"])
    parser.add_argument("--no-worker", action="store_true")
    parser.add_argument("--spy", choices=["worker", "web"])
    args = parser.parse_args()
    try:
        STACK.load(1000 if args.probe == "sign" else 35000)
        STACK.start()
        if args.probe == "sign":
            probe_sign(worker=not args.no_worker, spy=args.spy)
        else:
            probe_csv_memory()
    finally:
        connection.close()
        STACK.stop()
        STACK.drop_database()


if __name__ == "__main__":
    main()
