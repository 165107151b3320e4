"""Soak the production-like stack with signers while one fault is injected, then reconcile.

Run by hand (see docs/reliability.md), on a scratch database it may fill:
    .venv/bin/python benchmarks/soak.py --signers 200 --fault worker
    .venv/bin/python benchmarks/soak.py --signers 200 --fault postgres   # restarts the cluster!

Two gunicorn servers (requests alternate between them, as behind a load
balancer; a signer whose server is down tries the other), two Celery workers
and beat, a Redis server of its own, PostgreSQL and an SMTP sink on loopback.
Each signer has its own territory and address: it loads the form, signs, waits
for its email, follows the link and confirms. The declaration publishes without
moderation, so the public counts must end equal to the confirmed signatures.
A monitor polls /healthz every second to time how long each outage goes unseen.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/alliance_soak"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.pop("REDIS_URL", None)  # this process only reads the database

import logging

import django

django.setup()
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from declarations.models import Declaration
from signatures.models import Signature, SignatureStats
from territories.models import Territory
from tests.smtp_sink import SmtpSink
from tests.stack import Browser, Stack, wait_until

SLUG = "soak"
LINK = re.compile(r"https?://[^/\s]+(/signatures/confirmer/\S+/)")


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.accepted, self.refused, self.confirmed, self.errors = [], [], [], []
        self.accepted_at = []

    def add(self, name: str, value) -> None:
        with self.lock:
            getattr(self, name).append(value)


def prepare(signers: int) -> list[Territory]:
    """A fresh post-moderated declaration and one made-up territory per signer."""
    call_command("migrate", verbosity=0)
    Signature.objects.filter(declaration__slug=SLUG).delete()
    SignatureStats.objects.filter(declaration__slug=SLUG).delete()
    Declaration.objects.filter(slug=SLUG).delete()
    Declaration.objects.create(
        slug=SLUG,
        title="Soak",
        lead="Soak.",
        body="Soak.",
        date="2026-01-01",
        is_open=True,
        moderation=Declaration.Moderation.POST,
    )
    Territory.objects.filter(code__startswith="SOAK").delete()
    return Territory.objects.bulk_create(
        Territory(kind="autre", code=f"SOAK{n:05d}", name=f"Territoire soak {n}", search_name="")
        for n in range(signers)
    )


def confirmation_path(sink, address: str) -> str | None:
    for message in list(sink.messages):
        if message["To"] == address:
            text = message.get_body(("plain",)).get_content()
            return LINK.search(text).group(1)
    return None


RUN = int(time.time())  # addresses of their own: earlier runs count against email caps


def signer(number: int, territory, stack: Stack, sink, tally: Tally, email_wait: float):
    bases = [f"http://127.0.0.1:{web.port}" for web in stack.webs]
    address = f"maire{number}-{RUN}@soak-{number}.example"
    fields = {
        "territory": territory.pk,
        "first_name": "Soak",
        "last_name": f"Signataire {number}",
        "function": "president",
        "email": address,
        "consents_to_publication": "on",
        "declares_authorised": "on",
    }
    ip = f"10.{number // 250}.{number % 250}.1"
    status = None
    for attempt in range(4):  # a load balancer would route around a dead server
        browser = Browser(bases[(number + attempt) % len(bases)], ip=ip)
        try:
            status = browser.sign(SLUG, fields)
        except OSError as exc:
            tally.add("errors", f"{address} sign: {exc!r}")
            time.sleep(1)
            continue
        if status < 500:
            break
        time.sleep(1)
    if status != 302:
        tally.add("refused", (address, status))
        return
    tally.add("accepted", address)
    tally.add("accepted_at", (address, time.monotonic()))
    path = wait_until(lambda: confirmation_path(sink, address), timeout=email_wait, interval=0.5)
    if not path:
        return
    for attempt in range(4):
        try:
            status = Browser(bases[(number + attempt) % len(bases)], ip=ip).confirm(path)
        except OSError as exc:
            tally.add("errors", f"{address} confirm: {exc!r}")
            time.sleep(1)
            continue
        if status == 302:
            tally.add("confirmed", address)
            return
        if status < 500:
            return
        time.sleep(1)


class HealthMonitor(threading.Thread):
    """Polls /healthz every second; remembers when it first answered 503."""

    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.stack, self.samples, self.running = stack, [], True

    def run(self):
        while self.running:
            for web in self.stack.webs:
                if not web.running:
                    continue
                try:
                    status, body = Browser(f"http://127.0.0.1:{web.port}").request(
                        "/healthz", timeout=5
                    )
                except OSError:
                    continue
                failing = []
                if status != 200:
                    try:
                        parts = json.loads(body)["components"]
                        failing = [
                            name for name, part in parts.items() if part["status"] == "error"
                        ]
                    except (ValueError, KeyError):
                        failing = ["?"]
                self.samples.append((time.monotonic(), status, failing))
                break
            time.sleep(1)

    def first_red_after(self, moment: float) -> tuple[float, list] | None:
        for at, status, failing in self.samples:
            if at >= moment and status == 503:
                return at - moment, failing
        return None


def inject(fault: str, stack: Stack, sink_holder: dict, duration: float) -> str:
    """Break one component, wait `duration`, repair it; returns what was done."""
    if fault == "worker":
        sink_holder["handler"].delay_seconds = 3  # so the kills land inside SMTP exchanges
        time.sleep(2)
        for worker in stack.workers:  # every worker: an outage /healthz must report
            worker.kill()
        time.sleep(duration)
        sink_holder["handler"].delay_seconds = 0
        for worker in stack.workers:
            worker.start()
        return f"SIGKILL both workers during slow SMTP, restarted after {duration:.0f} s"
    if fault == "redis":
        stack.redis.stop()
        time.sleep(duration)
        stack.redis.start()
        return f"Redis stopped {duration:.0f} s"
    if fault == "postgres":
        version = sorted(os.listdir("/etc/postgresql"))[0]
        subprocess.run(  # noqa: S603 - the local cluster's own tool, run by hand
            [
                shutil.which("pg_ctlcluster") or "/usr/bin/pg_ctlcluster",
                "--skip-systemctl-redirect",
                version,
                "main",
                "restart",
            ],
            check=True,
        )
        return "PostgreSQL cluster restarted (pg_ctlcluster restart)"
    if fault == "smtp":
        sink_holder["sink"].__exit__(None, None, None)
        time.sleep(duration)
        # Same port, same mailbox: what it received before the outage is kept.
        restarted = SmtpSink(port=sink_holder["sink"].port, handler=sink_holder["handler"])
        sink_holder["sink"] = restarted.__enter__()
        return f"SMTP sink stopped {duration:.0f} s"
    if fault == "web":
        stack.webs[0].kill()
        time.sleep(duration)
        stack.webs[0].start()
        return f"SIGKILL web0 (gunicorn), restarted after {duration:.0f} s"
    return "no fault"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of arrivals")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--fault", choices=["none", "worker", "redis", "postgres", "smtp", "web"], default="none"
    )
    parser.add_argument("--fault-after", type=float, default=20.0, help="seconds into the run")
    parser.add_argument("--fault-duration", type=float, default=40.0)
    parser.add_argument("--email-wait", type=float, default=150.0)
    args = parser.parse_args()

    territories = prepare(args.signers)
    connection.close()
    sink = SmtpSink().__enter__()
    holder = {"sink": sink, "handler": sink.handler}
    stack = Stack(database_url=DATABASE_URL, smtp_port=sink.port)
    stack.start(webs=2, workers=2)
    tally = Tally()
    monitor = HealthMonitor(stack)
    try:
        assert stack.wait_for_workers(60), "workers did not start"
        monitor.start()
        started = time.monotonic()
        fault_report = {}

        def fault():
            time.sleep(args.fault_after)
            fault_report["at"] = time.monotonic()
            fault_report["what"] = inject(args.fault, stack, holder, args.fault_duration)
            fault_report["repaired"] = time.monotonic()

        fault_thread = threading.Thread(target=fault, daemon=True)
        if args.fault != "none":
            fault_thread.start()
        order = list(range(args.signers))
        random.Random(1).shuffle(order)
        with ThreadPoolExecutor(args.concurrency) as pool:
            for index, number in enumerate(order):
                # Arrivals spread evenly over --duration seconds: before, during, after the fault.
                slot = started + index * args.duration / args.signers
                time.sleep(max(0.0, slot - time.monotonic()))
                pool.submit(
                    signer,
                    number,
                    territories[number],
                    stack,
                    holder["handler"],
                    tally,
                    args.email_wait,
                )
        if fault_thread.is_alive() or args.fault != "none":
            fault_thread.join(timeout=120)
        elapsed = time.monotonic() - started
        wait_until(lambda: False, timeout=12)  # the counts refresh every 5 s
        monitor.running = False
        report(args, tally, holder["handler"], stack, monitor, fault_report, elapsed)
    finally:
        monitor.running = False
        stack.stop()
        holder["sink"].__exit__(None, None, None)


def report(args, tally, sink, stack, monitor, fault_report, elapsed):
    connection.close()
    rows = Signature.objects.filter(declaration__slug=SLUG)
    accepted = set(tally.accepted)
    emails = {}
    for message in sink.messages:
        emails[message["To"]] = emails.get(message["To"], 0) + 1
    confirmed_rows = rows.filter(status__in=["confirmed", "published"]).count()
    live_per_territory = (
        rows.filter(status__in=["confirmed", "published"])
        .values("territory")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    stats = SignatureStats.objects.filter(declaration__slug=SLUG).first()
    published = rows.filter(status="published").count()
    lost = accepted - set(rows.values_list("email", flat=True))
    without_email = [a for a in accepted if a not in emails]
    duplicated_emails = {a: n for a, n in emails.items() if n > 1}
    print(f"fault: {fault_report.get('what', 'none')}")
    print(
        f"signers: {args.signers} over {args.duration:.0f} s, concurrency {args.concurrency}, "
        f"run {elapsed:.0f} s"
    )
    print(f"accepted submissions: {len(accepted)}; refused: {len(tally.refused)}")
    if tally.refused:
        print(f"  refused (address, status): {tally.refused[:5]}")
    print(f"rows: {rows.count()}; accepted but no row (lost): {len(lost)}")
    print(
        f"emails: {sum(emails.values())} to {len(emails)} addresses; "
        f"accepted without email: {len(without_email)}; duplicated: {len(duplicated_emails)}"
    )
    if duplicated_emails:
        print(f"  duplicated: {duplicated_emails}")
    print(
        f"confirmed by signers: {len(tally.confirmed)}; live rows: {confirmed_rows}; "
        f"territories with two live signatures: {live_per_territory}"
    )
    print(f"counts snapshot: {stats.total if stats else None}; published rows: {published}")
    print(f"transport errors retried: {len(tally.errors)}")
    arrivals = {}
    for at, address in sink.arrivals:
        arrivals.setdefault(address, at)
    delays = sorted(arrivals[a] - at for a, at in tally.accepted_at if a in arrivals)
    if delays:
        print(
            f"email delay after submission: median {delays[len(delays) // 2]:.1f} s, "
            f"p95 {delays[int(len(delays) * 0.95)]:.1f} s, max {delays[-1]:.1f} s"
        )
    repaired = fault_report.get("repaired")
    if repaired:
        # Emails asked for before the repair and delivered after it: the fault held them.
        held = [
            arrivals[a] - repaired
            for a, at in tally.accepted_at
            if at < repaired and arrivals.get(a, 0) > repaired
        ]
        if held:
            print(f"emails held by the fault: {len(held)}; last {max(held):.0f} s after repair")
        else:
            print("emails held by the fault: 0")
    if fault_report.get("at"):
        red = monitor.first_red_after(fault_report["at"])
        print(
            "/healthz first 503 after the fault: "
            + (f"{red[0]:.0f} s ({', '.join(red[1])})" if red else "never")
        )
        green = [at for at, status, _ in monitor.samples if at > fault_report["repaired"]]
        reds = [
            at
            for at, status, _ in monitor.samples
            if at > fault_report["repaired"] and status == 503
        ]
        if green:
            last_red = max(reds) - fault_report["repaired"] if reds else 0
            print(f"/healthz green again {last_red:.0f} s after the repair")


if __name__ == "__main__":
    main()
