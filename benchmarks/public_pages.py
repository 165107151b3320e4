"""Time the public pages and the counts at a given number of published signatures.

Run by hand on a scratch database that has the referential (see docs/performance.md):
    DEBUG=1 DATABASE_URL=... .venv/bin/python benchmarks/public_pages.py --signatures 5000
It imports the referential if needed, loads demonstration signatures with seed_demo,
then times each page in-process with Django's test client (no network, no server).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client

from declarations.models import Declaration
from signatures.models import Signature
from signatures.stats import refresh_stats
from territories.models import Territory

ROUNDS = 30


def timed(function, rounds=ROUNDS) -> tuple[float, float, int]:
    """Median and p95 in milliseconds, and the queries of one run."""
    function()  # warm-up
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        function()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * len(samples)) - 1], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=5000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if not Territory.objects.exists():
        call_command("import_territories", verbosity=0)
    declaration = Declaration.objects.current()
    missing = (
        args.signatures - Signature.objects.published().filter(declaration=declaration).count()
    )
    if missing > 0:
        call_command("seed_demo", signatures=missing, stdout=open(os.devnull, "w"))  # noqa: SIM115
    total = refresh_stats(declaration_id=declaration.pk).total
    print(f"database: {connection.vendor}; published signatures: {total}")

    client = Client(HTTP_HOST="127.0.0.1")
    base = f"/declarations/{declaration.slug}/"
    poll = f"{base}signataires/nouvelles/?depuis=4102444800000000"
    etag = client.get(poll)["ETag"]

    def csv():
        response = client.get(f"{base}signataires.csv")
        # Kept per counts version once made: after the warm-up, this reads the kept file.
        return b"".join(response.streaming_content) if response.streaming else response.content

    cases = {
        "refresh_stats, nothing changed": lambda: refresh_stats(declaration_id=declaration.pk),
        "list, first page": lambda: client.get(f"{base}signataires/"),
        "list, région filter + search": lambda: client.get(
            f"{base}signataires/?region=76&q=saint"
        ),
        "poll, unchanged (304)": lambda: client.get(poll, HTTP_IF_NONE_MATCH=etag),
        "declaration page": lambda: client.get(base),
        "CSV, all signatures": csv,
    }
    for label, function in cases.items():
        rounds = 5 if label.startswith("CSV") else ROUNDS
        median, p95, queries = timed(function, rounds)
        print(f"{label}: median {median:.1f} ms, p95 {p95:.1f} ms, {queries} queries")


if __name__ == "__main__":
    main()
