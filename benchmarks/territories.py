"""Time the referential import and the autocomplete search on the configured database.

Run by hand (see docs/performance.md), for example:
    DEBUG=1 .venv/bin/python benchmarks/territories.py
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/alliance_bench \
        .venv/bin/python benchmarks/territories.py
It writes into that database: point it at a scratch one.
"""

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

from territories.referential import default_data_dir, import_referential
from territories.search import search_territories

QUERIES = ["toulouse", "st etienne", "SAINT ÉTIENNE", "42000", "244200770", "ma", "com"]
ROUNDS = 50


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    for label in ("import (first or current)", "import again (nothing changes)"):
        seconds = timed(lambda: import_referential(default_data_dir(), log=lambda _: None))
        print(f"{label}: {seconds:.2f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE territories_territory")
    for query in QUERIES:
        search_territories(query)  # warm-up
        samples = sorted(timed(lambda q=query: search_territories(q)) for _ in range(ROUNDS))
        p95 = samples[int(0.95 * len(samples)) - 1]
        print(
            f"search {query!r}: median {statistics.median(samples) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms over {ROUNDS} runs"
        )


if __name__ == "__main__":
    main()
