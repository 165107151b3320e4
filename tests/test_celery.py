import time

import pytest
from django.core.cache import cache

from alliance.tasks import HEARTBEAT_KEY, heartbeat


@pytest.mark.celery_worker
def test_task_runs_on_a_real_worker_through_redis(celery_worker, settings):
    """The message goes through the Redis broker and a worker thread executes it."""
    from alliance.celery import app

    assert not app.conf.task_always_eager
    assert app.conf.broker_url.startswith("redis://")
    result = heartbeat.apply_async()
    # No result backend: the effect (a cache write in Redis) is the proof.
    for _ in range(100):
        if cache.get(HEARTBEAT_KEY):
            break
        time.sleep(0.1)
    assert cache.get(HEARTBEAT_KEY), f"task {result.id} did not run on the worker"


def test_beat_schedule_names_registered_tasks():
    from alliance.celery import app

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
