"""The Celery app: tasks run on a real worker through Redis, beat names registered tasks."""

import pytest

from alliance.celery import app
from alliance.models import WorkerHeartbeat
from alliance.tasks import heartbeat
from tests.conftest import wait_for


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
