"""What the project itself keeps: the workers' heartbeats, for /healthz."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the heartbeat task.

    In the database rather than the cache: a Redis restart (it keeps nothing on
    disk here) must not make /healthz forget that workers are alive.
    """

    hostname = models.CharField(_("nom d'hôte"), max_length=200, primary_key=True)
    seen_at = models.DateTimeField(_("vu le"), default=timezone.now)

    class Meta:
        verbose_name = _("signal de vie d'un worker")
        verbose_name_plural = _("signaux de vie des workers")
        # The table the `alliance` app created before the model moved here.
        db_table = "alliance_workerheartbeat"

    def __str__(self) -> str:
        return f"{self.hostname} {self.seen_at:%H:%M:%S}"
