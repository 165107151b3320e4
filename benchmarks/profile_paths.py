"""Where the time of the main paths goes, in-process, at 35,000 published signatures.

    .venv/bin/python benchmarks/profile_paths.py [--signatures 35000] [--rounds 20]

Same settings as `make bench` (DEBUG=0, PostgreSQL, Redis), on a scratch database
of its own (alliance_profile, dropped at the end) and Redis database 9, flushed as
`make bench` does: run one at a time. Each path is requested with Django's test
client: first plainly (the median wall time, the SQL queries and their time,
EXPLAIN ANALYZE of the slowest), then under a sampling profiler: a thread reads
the request's stack every millisecond, so each share below is a share of wall
time, nested calls counted once (cProfile would double the cost of Python code
and miscount recursion). Writes var/bench/profile-<date>.txt.
"""

import argparse
import datetime
import html
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.stack import BenchStack

STACK = BenchStack(
    workers=0, database="alliance_profile", redis_db=9, logs=ROOT / "var/bench/profile-logs"
)
STACK.use_in_this_process()

from django.db import connection
from django.test import Client
from harness import data
from harness.signers import CSRF, DOMAIN, STARTED, new_number

# (label, what a frame's "file:function" contains). A sample counts once per label.
CATEGORIES = [
    ("template rendering", "django/template/"),
    ("  of which crispy forms", "crispy_forms/"),
    ("  of which form widgets", "django/forms/widgets.py"),
    ("database: psycopg (sending, waiting, reading)", "psycopg/"),
    ("ORM, including the database time under it", "django/db/models/"),
    ("form validation (is_valid)", "django/forms/forms.py:full_clean"),
    ("sessions", "django/contrib/sessions/"),
    ("rate limits (django-ratelimit)", "django_ratelimit/"),
    ("cache reads/writes (Redis)", "django/core/cache/"),
    ("Celery publish (after commit)", "kombu/"),
    ("flags: refresh_flags", "moderation/flags.py:refresh_flags"),
    ("proof level: refresh_proof", "signatures/proof/levels.py:refresh_proof"),
    ("email caps: OutgoingEmail claim", "signatures/models/outbox.py:claim"),
    ("sign_declaration (whole service)", "signatures/signing.py:sign_declaration"),
    ("translation (gettext, lazy strings)", "gettext"),
    ("public_row(s)", "public/filters.py:public_row"),
    ("spreadsheet_safe", "signatures/text.py:spreadsheet_safe"),
    ("CSP header (django-csp)", "csp/"),
    ("middleware total", "django/utils/deprecation.py:__call__"),
]
APPS = (
    "alliance/",
    "core/",
    "declarations/",
    "territories/",
    "proconnect/",
    "signatures/",
    "moderation/",
    "public/",
)


class Sampler(threading.Thread):
    """Reads one thread's stack every millisecond: shares of wall time, nesting counted once."""

    def __init__(self, thread_id: int):
        super().__init__(daemon=True)
        self.thread_id, self.stopped = thread_id, threading.Event()
        self.samples, self.categories, self.functions = 0, Counter(), Counter()

    def run(self) -> None:
        while not self.stopped.is_set():
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None:
                self._record(frame)
            time.sleep(0.001)

    def _record(self, frame) -> None:
        labels, functions = set(), set()
        while frame is not None:
            code = frame.f_code
            where = f"{code.co_filename}:{code.co_name}"
            labels.update(label for label, marker in CATEGORIES if marker in where)
            relative = code.co_filename.removeprefix(str(ROOT) + "/")
            if relative.startswith(APPS):
                functions.add(f"{relative}:{code.co_firstlineno} {code.co_name}")
            frame = frame.f_back
        self.samples += 1
        self.categories.update(labels)
        self.functions.update(functions)


def timed_sql(function) -> list[tuple[float, str, tuple]]:
    """The queries function() ran: (milliseconds, SQL, parameters)."""
    queries = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql, params))

    with connection.execute_wrapper(record):
        function()
    return queries


def explain(sql: str, params) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def profile_path(label: str, make_calls, rounds: int) -> list[str]:
    """make_calls(n) returns n zero-argument callables, each one request."""
    calls = make_calls(2 * rounds + 1)
    calls.pop()()  # warm-up
    walls, sql_ms = [], []
    for call in calls[:rounds]:
        started = time.perf_counter()
        queries = timed_sql(call)
        walls.append((time.perf_counter() - started) * 1000)
        sql_ms.append(sum(ms for ms, _sql, _params in queries))
    sampler = Sampler(threading.get_ident())
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # so the sampler gets the GIL while Python code runs
    sampler.start()
    started = time.perf_counter()
    for call in calls[rounds:]:
        call()
    sampled_ms = (time.perf_counter() - started) * 1000 / rounds
    sampler.stopped.set()
    sampler.join()
    sys.setswitchinterval(switch)
    # EXPLAIN ANALYZE runs the statement: only a SELECT may be run again.
    selects = [query for query in queries if query[1].lstrip().upper().startswith("SELECT")]
    lines = [
        f"## {label}",
        "",
        f"wall: median {statistics.median(walls):.1f} ms over {rounds} requests "
        f"({sampled_ms:.1f} ms while sampled); {len(queries)} SQL queries, median "
        f"{statistics.median(sql_ms):.1f} ms executing them (fetches of a server-side cursor "
        "not included)",
        "",
    ]
    if selects:  # the sign form, for one, now runs none
        slowest = max(selects, key=lambda query: query[0])
        lines += [
            f"slowest SELECT, {slowest[0]:.1f} ms: {slowest[1][:300]}",
            *("    " + line for line in explain(slowest[1], slowest[2])[:14]),
            "",
        ]
    lines.append(f"share of wall time ({sampler.samples} samples):")
    for name, _marker in CATEGORIES:
        share = sampler.categories[name] / max(sampler.samples, 1)
        if share >= 0.01:
            lines.append(f"  {name}: {100 * share:.0f} %")
    lines.append("project functions (inclusive share):")
    for function, count in sampler.functions.most_common(14):
        lines.append(f"  {100 * count / sampler.samples:5.1f} %  {function}")
    return [*lines, ""]


def get_calls(path: str, streaming: bool = False):
    client = Client(HTTP_HOST="127.0.0.1")

    def call():
        response = client.get(path, **data.SECURE)
        if streaming:
            b"".join(response.streaming_content)
        assert response.status_code == 200, (path, response.status_code)

    return lambda n: [call] * n


def sign_calls(declaration):
    """n filled forms, each a new visitor for a territory nobody signed, posted once ready."""
    slug = declaration.slug
    path = f"/declarations/{slug}/signer/"

    def make(n):
        free = data.free_territories(declaration, seed=3)[:n]
        posts = []
        for territory_id, kind in free:
            visitor = Client(HTTP_HOST="127.0.0.1")
            number = new_number()
            page = visitor.get(path, **data.SECURE).content.decode()
            fields = {
                "csrfmiddlewaretoken": CSRF.search(page).group(1),
                "started": html.unescape(STARTED.search(page).group(1)),
                "territory": territory_id,
                "first_name": "Camille",
                "last_name": f"Profil {number}",
                "function": "maire" if kind == "commune" else "president",
                "email": f"maire@profil-{number}.{DOMAIN}",
                "consents_to_publication": "on",
                "declares_authorised": "on",
            }
            ip = {"HTTP_X_FORWARDED_FOR": f"10.6.{number // 250}.{number % 250}"}
            posts.append(lambda v=visitor, f=fields, i=ip: _post(v, path, f, i))
        time.sleep(0.6)  # past the robot threshold: these are people's submissions
        return posts

    return make


def _post(visitor, path, fields, ip):
    response = visitor.post(path, fields, **data.SECURE | ip)
    assert response.status_code == 302, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=35000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    try:
        STACK.load(args.signatures)
        declaration = data.current_declaration()
        base = f"/declarations/{declaration.slug}/"
        paths = [
            ("sign POST", sign_calls(declaration), args.rounds),
            ("sign form GET", get_calls(f"{base}signer/"), args.rounds),
            ("list, first page", get_calls(f"{base}signataires/"), args.rounds),
            ("list, région 76", get_calls(f"{base}signataires/?region=76"), args.rounds),
            ("declaration page /", get_calls("/"), args.rounds),
            ("CSV full", get_calls(f"{base}signataires.csv", streaming=True), 2),
        ]
        stamp = datetime.datetime.now().astimezone()
        lines = [f"# Profile {stamp:%Y-%m-%d %H:%M %Z}, {args.signatures:,} signatures", ""]
        for label, make_calls, rounds in paths:
            section = profile_path(label, make_calls, rounds)
            print("\n".join(section), flush=True)
            lines += section
    finally:
        connection.close()
        STACK.stop()
        STACK.drop_database()
    out = ROOT / "var/bench" / f"profile-{stamp:%Y-%m-%d-%H%M}.txt"
    out.write_text("\n".join(lines) + "\n")
    print(f"Written to {out}")


if __name__ == "__main__":
    main()
