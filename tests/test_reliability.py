"""Faults injected into the real stack: a signature survives them, its email goes out.

Each test runs gunicorn, a Celery worker and beat as separate processes, on a
Redis server of its own (stopped and started by the test, never the shared
one), the test's PostgreSQL database and an SMTP sink. The sweeper and the
heartbeat run on their production periods, so these tests take about a minute
each: they measure the delays the issue sets (an email within 60 s).
"""

import random
import signal
import time

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from signatures.models import Signature
from tests.factories import DeclarationFactory, TerritoryFactory
from tests.smtp_sink import SmtpSink
from tests.stack import Browser, Stack, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SLUG = "fiabilite"


def _database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


@pytest.fixture
def sink():
    """The SMTP sink's handler (messages, refusals, delay), with the port it listens on."""
    with SmtpSink() as running:
        running.handler.port = running.port
        yield running.handler


@pytest.fixture
def stack(migration_data, sink):
    if connection.vendor != "postgresql":
        pytest.skip("the stack's processes share a PostgreSQL database")
    DeclarationFactory(slug=SLUG)
    running = Stack(database_url=_database_url(), smtp_port=sink.port).start()
    try:
        assert running.wait_for_workers(), running.workers[0].log()
        yield running
    finally:
        running.stop()


def _fields(territory, email: str) -> dict:
    return {
        "territory": territory.pk,
        "first_name": "Camille",
        "last_name": "Fiable",
        "function": "president",
        "email": email,
        "consents_to_publication": "on",
        "declares_authorised": "on",
    }


def _messages_to(sink, address: str) -> list:
    return [message for message in sink.messages if message["To"] == address]


def test_a_signature_made_while_redis_is_down_is_saved_and_its_email_sent_after(stack, sink):
    territory = TerritoryFactory(name="Commune de la panne")
    browser = Browser(f"http://127.0.0.1:{stack.webs[0].port}", ip="10.1.0.1")
    stack.redis.stop()

    status = browser.sign(SLUG, _fields(territory, "maire@panne-redis.fr"))

    assert status == 302, stack.webs[0].log()[-3000:]  # the usual "check your inbox" page
    signature = Signature.objects.get(email="maire@panne-redis.fr")
    assert signature.status == Signature.Status.PENDING
    assert sink.messages == []
    stack.redis.start()
    assert wait_until(lambda: _messages_to(sink, "maire@panne-redis.fr"), timeout=90), (
        stack.workers[0].log()[-3000:] + stack.beat.log()[-3000:]
    )
    time.sleep(2)
    assert len(_messages_to(sink, "maire@panne-redis.fr")) == 1


def test_an_email_interrupted_by_a_killed_worker_arrives_within_a_minute_of_its_restart(
    stack, sink
):
    territory = TerritoryFactory(name="Commune du travailleur tué")
    browser = Browser(f"http://127.0.0.1:{stack.webs[0].port}", ip="10.1.0.2")
    sink.delay_seconds = 20  # the SMTP conversation is slow: the kill lands inside it

    assert browser.sign(SLUG, _fields(territory, "maire@worker-tue.fr")) == 302
    assert wait_until(sink.data_started.is_set, timeout=30), stack.workers[0].log()[-3000:]
    stack.workers[0].kill(signal.SIGKILL)
    sink.delay_seconds = 0
    stack.workers[0].start()
    restarted = time.monotonic()

    assert wait_until(lambda: _messages_to(sink, "maire@worker-tue.fr"), timeout=90), (
        stack.workers[0].log()[-3000:] + stack.beat.log()[-3000:]
    )
    assert time.monotonic() - restarted <= 60
    time.sleep(3)
    assert 1 <= len(_messages_to(sink, "maire@worker-tue.fr")) <= 2  # once, at most once more


def test_an_email_refused_for_a_while_by_the_smtp_server_is_delivered_once(stack, sink):
    territory = TerritoryFactory(name="Commune du serveur capricieux")
    browser = Browser(f"http://127.0.0.1:{stack.webs[0].port}", ip="10.1.0.3")
    sink.refuse_next = 2  # 451, twice: retried after 10 s, then 20 s

    assert browser.sign(SLUG, _fields(territory, "maire@smtp-capricieux.fr")) == 302

    assert wait_until(lambda: _messages_to(sink, "maire@smtp-capricieux.fr"), timeout=90), (
        stack.workers[0].log()[-3000:]
    )
    assert sink.refuse_next == 0
    time.sleep(20)  # past a sweep: nothing is sent twice
    assert len(_messages_to(sink, "maire@smtp-capricieux.fr")) == 1
    signature = Signature.objects.get(email="maire@smtp-capricieux.fr")
    assert signature.confirmation_send_count == 1
    assert signature.confirmation_retry_at is None


def test_a_redis_restart_during_a_send_leaves_the_worker_serving(stack, sink):
    """The email in flight when Redis restarts arrives, and the worker takes new work after."""
    first = TerritoryFactory(name="Commune de l'envoi interrompu")
    second = TerritoryFactory(name="Commune d'après la panne")
    browser = Browser(f"http://127.0.0.1:{stack.webs[0].port}", ip="10.1.0.4")
    sink.delay_seconds = 6  # the restart lands inside the SMTP conversation

    assert browser.sign(SLUG, _fields(first, "maire@envoi-interrompu.fr")) == 302
    assert wait_until(sink.data_started.is_set, timeout=30), stack.workers[0].log()[-3000:]
    stack.redis.stop()
    time.sleep(1)
    stack.redis.start()
    sink.delay_seconds = 0

    assert wait_until(lambda: _messages_to(sink, "maire@envoi-interrompu.fr"), timeout=90), (
        stack.workers[0].log()[-5000:]
    )
    assert stack.workers[0].running, stack.workers[0].log()[-5000:]
    assert browser.sign(SLUG, _fields(second, "maire@apres-la-panne.fr")) == 302
    assert wait_until(lambda: _messages_to(sink, "maire@apres-la-panne.fr"), timeout=20), (
        stack.workers[0].log()[-5000:]
    )


def test_the_worker_survives_redis_restarts_while_tasks_run(stack, sink):
    """Restarts land at varied moments of the worker's work; it must reconnect every time.

    Celery 5.7.0 died here within about twenty restarts (an AttributeError while
    closing the lost connection): the process must stay up, not rely on a supervisor.
    """
    # Not the current app: the tests after this one must keep the project's app.
    producer = Celery(broker=stack.redis_url, set_as_current=False)
    producer.conf.broker_connection_timeout = 1
    moments = random.Random(15)  # the same sequence on every run
    for _restart in range(15):
        for _task in range(10):
            producer.send_task("alliance.heartbeat")
            producer.send_task("signatures.refresh_all_stats")
        time.sleep(moments.uniform(0, 0.5))
        stack.redis.stop()
        time.sleep(moments.uniform(0, 1.0))
        stack.redis.start()
        time.sleep(moments.uniform(0.5, 2.0))
        assert stack.workers[0].running, stack.workers[0].log()[-5000:]

    territory = TerritoryFactory(name="Commune des redémarrages")
    browser = Browser(f"http://127.0.0.1:{stack.webs[0].port}", ip="10.1.0.5")
    assert browser.sign(SLUG, _fields(territory, "maire@redemarrages.fr")) == 302
    assert wait_until(lambda: _messages_to(sink, "maire@redemarrages.fr"), timeout=30), (
        stack.workers[0].log()[-5000:]
    )
