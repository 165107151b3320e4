"""What the project itself keeps: the workers' heartbeats, for /healthz."""

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the heartbeat task.

    In the database rather than the cache: a Redis restart (it keeps nothing on
    disk here) must not make /healthz forget that workers are alive.
    """

    hostname = models.CharField(max_length=200, primary_key=True)
    seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.hostname} {self.seen_at:%H:%M:%S}"
