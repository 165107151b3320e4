"""The Celery app: tasks run on a real worker through Redis, beat names registered tasks,
a worker keeps its database connection between tasks."""

import psycopg
import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import OperationalError, connection

from alliance.celery import app
from core.models import WorkerHeartbeat
from core.tasks import heartbeat
from signatures.models import Signature
from signatures.tasks import refresh_due_proofs
from tests.conftest import running_worker, wait_for
from tests.factories import SignatureFactory


@pytest.mark.celery_worker
def test_task_runs_on_a_real_worker_through_redis(celery_worker, settings):
    """The message goes through the Redis broker and a worker thread executes it."""
    assert not app.conf.task_always_eager
    assert app.conf.broker_url.startswith("redis://")
    result = heartbeat.apply_async()
    # No result backend: the effect (the worker's heartbeat row) is the proof.
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=10)
    beat = WorkerHeartbeat.objects.get()
    assert beat.hostname != "eager", f"task {result.id} did not run on the worker"


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


def _run_as_a_worker_does(fixup, query) -> None:
    """The signals around one task, as Celery's tracer sends them in a worker."""
    signals.task_prerun.send(sender=heartbeat, task_id="t", task=heartbeat)
    try:
        query()
    finally:
        signals.task_postrun.send(sender=heartbeat, task_id="t", task=heartbeat)


@pytest.fixture
def worker_fixup():
    """Celery's Django fixup as a worker installs it (closing connections around tasks)."""
    fixup = DjangoWorkerFixup(app)
    signals.task_prerun.connect(fixup.on_task_prerun)
    signals.task_postrun.connect(fixup.on_task_postrun)
    yield fixup
    signals.task_prerun.disconnect(fixup.on_task_prerun)
    signals.task_postrun.disconnect(fixup.on_task_postrun)


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next(worker_fixup):
    connection.ensure_connection()
    opened = connection.connection
    for _ in range(3):
        _run_as_a_worker_does(worker_fixup, _select_one)
    assert connection.connection is opened


def _terminate(pid: int) -> None:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_closed_between_tasks_is_replaced_before_the_next_query(worker_fixup):
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    _terminate(pid)
    _run_as_a_worker_does(worker_fixup, _select_one)  # the health check reconnects
    assert connection.connection.info.backend_pid != pid


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_closed_during_a_task_is_dropped_after_it(worker_fixup):
    def closed_under_the_task():
        _select_one()
        _terminate(connection.connection.info.backend_pid)
        _select_one()

    with pytest.raises(OperationalError):
        _run_as_a_worker_does(worker_fixup, closed_under_the_task)
    assert connection.connection is None
    _run_as_a_worker_does(worker_fixup, _select_one)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_takes_what_people_wait_for_before_the_flags(migration_data):
    """Flags go to the "deferred" queue, read only once "celery" is empty."""
    signatures = SignatureFactory.create_batch(3)
    app.control.purge()
    with app.connection_for_write() as broker:
        client = broker.default_channel.client
        refresh_due_proofs.delay()
        heartbeat.delay()
        heartbeat.delay()
        assert client.llen("deferred") == 1
        assert client.llen("celery") == 2

    started = []

    def record(sender=None, **_kwargs):
        started.append(sender.name)

    signals.task_prerun.connect(record)
    try:
        with running_worker():  # the solo pool: one task at a time, in order
            wait_for(lambda: len(started) == 3, timeout=20)
            wait_for(lambda: not Signature.objects.proof_due().exists(), timeout=20)
    finally:
        signals.task_prerun.disconnect(record)
    assert started == ["alliance.heartbeat"] * 2 + ["signatures.refresh_due_proofs"]
    assert all(
        s.proof_refreshed_at for s in Signature.objects.filter(pk__in=[s.pk for s in signatures])
    )
